import factory

from apps.campaigns.models import Campaign, Offer


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    offer = Offer.CONTENT_DOWNLOAD
    cost = 0
