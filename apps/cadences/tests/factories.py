from __future__ import annotations

import factory

from apps.cadences.models import Cadence, CadenceStep


class CadenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cadence

    name = factory.Sequence(lambda n: f"Cadence {n}")
    lead_type = "outbound"


class CadenceStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CadenceStep

    cadence = factory.SubFactory(CadenceFactory)
    position = factory.Sequence(lambda n: n + 1)
    day_offset = 0
    channel = "call"


def cadence_with_steps(*, lead_type="outbound", steps=((0, "call"), (2, "email"), (4, "call")), **kwargs) -> Cadence:
    cadence = CadenceFactory(lead_type=lead_type, **kwargs)
    for position, (day, channel) in enumerate(steps, start=1):
        CadenceStepFactory(cadence=cadence, position=position, day_offset=day, channel=channel)
    return cadence
