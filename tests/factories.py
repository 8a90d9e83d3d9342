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


def next_order_reference(label: str) -> str:
    """The next free reference of an order model (as the services would allocate it)."""
    from django.apps import apps

    from inventory.services.references import next_reference
    from orders.services.common import reference_pattern

    model = apps.get_model(label)
    return next_reference(model, reference_pattern(model))[0]


class SalesOrderFactory(factory.django.DjangoModelFactory):
    """A bare PENDING sales order row; use orders.services.sales for real flows."""

    class Meta:
        model = "orders.SalesOrder"

    reference = factory.LazyFunction(lambda: next_order_reference("orders.SalesOrder"))
    customer = factory.SubFactory(CompanyFactory, is_customer=True)


class SalesOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.SalesOrderLine"

    order = factory.SubFactory(SalesOrderFactory)
    part = factory.SubFactory(PartFactory, salable=True)
    quantity = 10
    unit_price = 2


class SalesOrderShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.SalesOrderShipment"

    order = factory.SubFactory(SalesOrderFactory)
    reference = factory.Sequence(lambda n: str(n + 1))


class ReturnOrderFactory(factory.django.DjangoModelFactory):
    """A bare PENDING return order row; use orders.services.returns for real flows."""

    class Meta:
        model = "orders.ReturnOrder"

    reference = factory.LazyFunction(lambda: next_order_reference("orders.ReturnOrder"))
    customer = factory.SubFactory(CompanyFactory, is_customer=True)


class ReturnOrderLineFactory(factory.django.DjangoModelFactory):
    """A line for an item the order's customer has."""

    class Meta:
        model = "orders.ReturnOrderLine"

    order = factory.SubFactory(ReturnOrderFactory)
    item = factory.SubFactory(
        StockItemFactory, customer=factory.SelfAttribute("..order.customer"), location=None
    )
    quantity = factory.LazyAttribute(lambda line: line.item.quantity)


class SupplierFactory(CompanyFactory):
    name = factory.Sequence(lambda n: f"Supplier {n}")
    is_supplier = True
    is_customer = False


class ManufacturerFactory(CompanyFactory):
    name = factory.Sequence(lambda n: f"Manufacturer {n}")
    is_supplier = False
    is_manufacturer = True
    is_customer = False


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Contact"

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Address"

    company = factory.SubFactory(CompanyFactory)
    title = factory.Sequence(lambda n: f"Address {n}")
    line1 = "1 Main Street"


class ManufacturerPartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ManufacturerPart"

    part = factory.SubFactory(PartFactory)
    manufacturer = factory.SubFactory(ManufacturerFactory)
    mpn = factory.Sequence(lambda n: f"MPN-{n:05d}")


class SupplierPartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.SupplierPart"

    part = factory.SubFactory(PartFactory)
    supplier = factory.SubFactory(SupplierFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    pack_quantity = 1


class SupplierPriceBreakFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.SupplierPriceBreak"

    supplier_part = factory.SubFactory(SupplierPartFactory)
    quantity = 1
    price = 1


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    """A bare PENDING purchase order row; use orders.services.purchase for real flows."""

    class Meta:
        model = "orders.PurchaseOrder"

    reference = factory.LazyFunction(lambda: next_order_reference("orders.PurchaseOrder"))
    supplier = factory.SubFactory(SupplierFactory)


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    """A line for a supplier part of the order's supplier."""

    class Meta:
        model = "orders.PurchaseOrderLine"

    order = factory.SubFactory(PurchaseOrderFactory)
    supplier_part = factory.SubFactory(
        SupplierPartFactory, supplier=factory.SelfAttribute("..order.supplier")
    )
    quantity = 10
    unit_price = 2


class PurchaseOrderExtraLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.PurchaseOrderExtraLine"

    order = factory.SubFactory(PurchaseOrderFactory)
    description = "Shipping"
    quantity = 1
    price = 5


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
