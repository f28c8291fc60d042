"""Cadence email steps sent from the portal.

A cadence email step can carry a template (EmailStepTemplate). The rep reviews the rendered
email on the lead page and sends it, or the portal sends it when due if the template is
automatic. Either way the mail goes through the mail outbox (after commit, retried) to the
SMTP server ops configure, From and Reply-To the rep, and the send is the step's activity:

- a **reviewed send** is the rep's own email: a real touch (`activity_create`, not automated),
  so it moves an assigned lead to working, counts for response time and completes the step
  with no response (yet);
- an **automatic send** is a robot's: logged as an automated email activity that never moves
  the lead nor counts as its first response (the product rule for automated touches), and
  completes the step with no response.

Merge fields are a fixed list, substituted as text (ops-edited templates are not Django
templates, so they cannot reach any other data); a field with no value refuses the send.
Opted-out (or bounced) addresses are never emailed. A reply or bounce reported through
POST /api/activities/ (types email_reply / email_bounce) stops the contact's cadence.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import formataddr

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from apps.accounts.models import Activity, ActivityType
from apps.cadences import events as cadence_events
from apps.cadences.models import Channel, Enrolment, EnrolmentStep
from apps.cadences.services import (
    activity_create,
    enrolment_end_on_reply,
    enrolment_step_complete,
    enrolment_stop,
)
from apps.connect.merge import MERGE_FIELDS, render_merge
from apps.connect.models import CadenceEmail, EmailOptOut, EmailStepTemplate, OutboundEmail, RepSignature
from sdrops.mail import mail_outbox_write

logger = logging.getLogger(__name__)

def merge_values(*, step: EnrolmentStep) -> dict[str, str]:
    contact = step.enrolment.contact
    rep = step.enrolment.rep
    signature = RepSignature.objects.filter(rep=rep).values_list("text", flat=True).first() or ""
    return {
        "first_name": contact.first_name.strip(),
        "last_name": contact.last_name.strip(),
        "title": contact.title.strip(),
        "account": contact.account.name.strip() if contact.account_id else "",
        "rep_name": rep.owner_name.strip(),
        "rep_email": rep.user.email.strip(),
        "signature": signature.strip(),
    }


def _step_for_send(step_id: int) -> EnrolmentStep:
    return (
        EnrolmentStep.objects.select_related("enrolment__contact__account", "enrolment__rep__user", "step__cadence")
        .get(pk=step_id)
    )


def email_opted_out(email: str) -> EmailOptOut | None:
    return EmailOptOut.objects.filter(email__iexact=(email or "").strip()).first()


def cadence_email_preview(*, step: EnrolmentStep) -> dict:
    """What the rep reviews: the rendered subject and body, and why it cannot be sent (if so)."""
    template = EmailStepTemplate.objects.filter(step_id=step.step_id).first()
    problems: list[str] = []
    if template is None:
        return {"template": None, "subject": "", "body": "", "problems": ["This step has no email template."]}
    values = merge_values(step=step)
    subject, missing_subject = render_merge(template.subject, values)
    body, missing_body = render_merge(template.body, values)
    missing = sorted(set(missing_subject + missing_body))
    if missing:
        problems.append(_missing_message(missing))
    opt_out = email_opted_out(step.enrolment.contact.email)
    if opt_out is not None:
        problems.append(f"{step.enrolment.contact.email} is on the opt-out list ({opt_out.get_reason_display().lower()}): "
                        "the portal never emails them.")
    return {"template": template, "subject": subject, "body": body, "problems": problems}


def _missing_message(missing: list[str]) -> str:
    return "Not sent: no value for " + ", ".join(f"{{{{ {name} }}}} ({MERGE_FIELDS.get(name, 'not a merge field')})" for name in missing) + "."


def cadence_email_send(
    *, step: EnrolmentStep, actor=None, subject: str | None = None, body: str | None = None, automatic: bool = False,
) -> CadenceEmail:
    """Send the email of `step` (the contact's current step, an email step with a template).

    `subject` / `body` are the rep's reviewed text (the rendered template by default); either
    way no merge field may be left without a value. Raises ValidationError with the reason
    when it cannot be sent; `automatic` sends record the refusal instead, so the job does not
    retry a step that needs the rep."""
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = EnrolmentStep.objects.select_for_update(no_key=True).get(pk=step.pk)
            step = _step_for_send(locked.pk)
            enrolment = step.enrolment
            contact, rep = enrolment.contact, enrolment.rep
            existing = CadenceEmail.objects.filter(enrolment_step=step).first()
            if existing is not None and existing.status != CadenceEmail.Status.REFUSED:
                raise ValidationError(f"Step {step.position}'s email was already sent ({existing.at:%Y-%m-%d %H:%M}).")
            if step.channel != Channel.EMAIL:
                raise ValidationError(f"Step {step.position} is a {step.get_channel_display().lower()} step, not an email.")
            if enrolment.state != Enrolment.State.ACTIVE or step.outcome != EnrolmentStep.Outcome.PENDING:
                raise ValidationError("Only a pending step of an active cadence can be sent.")
            first_pending = enrolment.steps.filter(outcome=EnrolmentStep.Outcome.PENDING).order_by("position").first()
            if first_pending is None or first_pending.pk != step.pk:
                raise ValidationError(f"Step {step.position} is not the current step; finish step "
                                      f"{first_pending.position if first_pending else '?'} first.")
            preview = cadence_email_preview(step=step)
            if preview["template"] is None:
                raise ValidationError("This step has no email template; ops add one under Connections › Email step templates.")
            opt_out = email_opted_out(contact.email)
            if opt_out is not None:
                raise ValidationError(
                    f"{contact.email} is on the opt-out list ({opt_out.get_reason_display().lower()}): "
                    "the portal never emails them."
                )
            if not rep.user.email:
                raise ValidationError(f"{rep} has no email address to send from.")
            values = merge_values(step=step)
            final_subject, missing_s = render_merge(preview["template"].subject if subject is None else subject, values)
            final_body, missing_b = render_merge(preview["template"].body if body is None else body, values)
            missing = sorted(set(missing_s + missing_b))
            if missing:
                raise ValidationError(_missing_message(missing))
            if not final_subject.strip() or not final_body.strip():
                raise ValidationError("The email needs a subject and a body.")
            if automatic:
                activity = activity_create(
                    rep=rep, contact=contact, type=ActivityType.EMAIL, occurred_at=now, automated=True,
                    subject=final_subject, actor=None,
                )
                enrolment_step_complete(step=step, outcome=EnrolmentStep.Outcome.NO_RESPONSE, at=now,
                                        activity=activity, system=True)
            else:
                # The rep's own email: a real touch, which also completes the step (no response yet).
                activity = activity_create(
                    rep=rep, contact=contact, type=ActivityType.EMAIL, occurred_at=now, subject=final_subject,
                    actor=actor,
                )
            outbound = mail_outbox_write(
                kind=OutboundEmail.Kind.CADENCE_STEP, to=[contact.email], subject=final_subject, body=final_body,
                from_email=formataddr((rep.owner_name, rep.user.email)), reply_to=[rep.user.email],
                headers={"X-Sdrops-Cadence-Step": str(step.pk)}, related=f"enrolment_step:{step.pk}",
            )
            record, _ = CadenceEmail.objects.update_or_create(
                enrolment_step=step,
                defaults={"status": CadenceEmail.Status.SENT, "reason": "", "automatic": automatic,
                          "outbound": outbound, "activity": activity, "at": now,
                          "sent_by": getattr(actor, "user", actor) if actor is not None else None},
            )
            return record
    except ValidationError as error:
        if automatic:
            reason = " ".join(error.messages)[:500]
            CadenceEmail.objects.update_or_create(
                enrolment_step_id=step.pk, defaults={"status": CadenceEmail.Status.REFUSED, "reason": reason,
                                                     "automatic": True, "at": now},
            )
            logger.info("Automatic email of step %s not sent: %s", step.pk, reason)
        raise


def cadence_emails_due(*, now: dt.datetime | None = None) -> list[int]:
    """Automatic email steps due now that were neither sent nor refused."""
    now = now or timezone.now()
    candidates = (
        EnrolmentStep.objects.filter(
            outcome=EnrolmentStep.Outcome.PENDING, channel=Channel.EMAIL, due_at__lte=now,
            enrolment__state=Enrolment.State.ACTIVE, step__email_template__automatic=True, email__isnull=True,
        )
        .order_by("due_at", "pk")
        .values_list("pk", "enrolment_id", "position")
    )
    current = {}
    for pk, enrolment_id, position in candidates:
        current.setdefault(enrolment_id, (pk, position))
    ids = []
    for enrolment_id, (pk, position) in current.items():
        earlier = EnrolmentStep.objects.filter(
            enrolment_id=enrolment_id, outcome=EnrolmentStep.Outcome.PENDING, position__lt=position
        ).exists()
        if not earlier:
            ids.append(pk)
    return sorted(ids)


def cadence_email_send_due(*, step_id: int) -> bool:
    """The job's unit of work: send one automatic step if it is still due (idempotent)."""
    step = EnrolmentStep.objects.filter(pk=step_id).first()
    if step is None or CadenceEmail.objects.filter(enrolment_step_id=step_id).exists():
        return False
    try:
        cadence_email_send(step=step, automatic=True)
    except ValidationError:
        return False
    return True


# --- replies and bounces (POST /api/activities/) ----------------------------------------------


def _last_sent(contact_id: int) -> CadenceEmail | None:
    return (
        CadenceEmail.objects.filter(
            enrolment_step__enrolment__contact_id=contact_id, status=CadenceEmail.Status.SENT,
        ).select_related("enrolment_step").order_by("-at", "-pk").first()
    )


@receiver(cadence_events.activity_logged, dispatch_uid="connect-reply-bounce")
def _on_activity(sender, activity: Activity, outcome: str, **kwargs):
    if activity.contact_id is None or activity.type not in (ActivityType.EMAIL_REPLY, ActivityType.EMAIL_BOUNCE):
        return
    contact = activity.contact
    sent = _last_sent(contact.pk)
    if activity.type == ActivityType.EMAIL_REPLY:
        enrolment_end_on_reply(contact=contact, step=sent.enrolment_step if sent else None, outcome=outcome,
                               at=activity.occurred_at)
        if sent is not None:
            CadenceEmail.objects.filter(pk=sent.pk).update(status=CadenceEmail.Status.REPLIED)
        return
    # A bounce: the address does not take mail. Stop the cadence and never email it again.
    enrolment_stop(contact=contact, at=activity.occurred_at)
    if sent is not None:
        CadenceEmail.objects.filter(pk=sent.pk).update(status=CadenceEmail.Status.BOUNCED, reason=activity.subject[:500])
    if not EmailOptOut.objects.filter(email__iexact=contact.email).exists():
        EmailOptOut.objects.create(email=contact.email, reason=EmailOptOut.Reason.BOUNCED,
                                   note=(activity.subject or "Bounce reported through the API")[:255])
