"""Signals apps.integrations sends (see sdrops/events.py for the rules), so apps that build
on it (apps.connect's CRM sync) extend the webhooks without apps.integrations importing them.

    crm_event_received(integration, data)   a verified, parsed CRM webhook event that is not an
                                            account event (opportunity.*, contact.*), inside the
                                            delivery's transaction; the receiver that handles the
                                            kind returns the answer (a dict), others return None
    outbound_event_data(data)               an outbound event's data, built once per change for its
                                            subscribers, inside the change's transaction; receivers
                                            add fields in place (contact.crm_id …)
"""

from django.dispatch import Signal

crm_event_received = Signal()
outbound_event_data = Signal()
