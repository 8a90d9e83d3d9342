"""factory_boy factories for every model the tests need."""

import factory
from django.contrib.auth import get_user_model

from admin_customisations.models import BackgroundJob


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw-test-123")


class BackgroundJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackgroundJob

    name = factory.Sequence(lambda n: f"Job {n}")
    created_by = factory.SubFactory(UserFactory)
    total = 10
    done = 3


class PartCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.PartCategory"

    name = factory.Sequence(lambda n: f"Category {n}")


class StockLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockLocation"

    name = factory.Sequence(lambda n: f"Location {n}")


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Part"

    name = factory.Sequence(lambda n: f"Part {n}")
    ipn = factory.Sequence(lambda n: f"IPN-{n:05d}")
    description = "A test part"
    category = factory.SubFactory(PartCategoryFactory)


class PartParameterTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.PartParameterTemplate"

    name = factory.Sequence(lambda n: f"Parameter {n}")
    units = "Ω"


class PartParameterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.PartParameter"

    part = factory.SubFactory(PartFactory)
    template = factory.SubFactory(PartParameterTemplateFactory)
    data = "100"


class StockItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockItem"

    part = factory.SubFactory(PartFactory)
    location = factory.SubFactory(StockLocationFactory)
    quantity = 10


class StockItemTrackingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockItemTracking"

    item = factory.SubFactory(StockItemFactory)
    tracking_type = 1  # CREATED


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Company"

    name = factory.Sequence(lambda n: f"Company {n}")
    is_customer = True


class BomItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "builds.BomItem"

    part = factory.SubFactory(PartFactory, assembly=True)
    sub_part = factory.SubFactory(PartFactory, component=True)
    quantity = 1


class BuildOrderFactory(factory.django.DjangoModelFactory):
    """A bare build order row; use builds.services to create one with lines."""

    class Meta:
        model = "builds.BuildOrder"

    reference = factory.Sequence(lambda n: f"BO-{n + 1:04d}")
    reference_int = factory.Sequence(lambda n: n + 1)
    part = factory.SubFactory(PartFactory, assembly=True)
    quantity = 10
