"""Read-side helpers: annotated querysets for lists, dashboards and exports.

Every figure is an annotation computed in the same query (no per-row queries).
"""

from decimal import Decimal

from django.apps import apps
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from inventory.allocations import part_allocated_expression
from inventory.models import Part, PartCategory, StockItem, StockLocation

QUANTITY = DecimalField(max_digits=20, decimal_places=5)


def _sum_quantity(items) -> Coalesce:
    subquery = items.order_by().values("part").annotate(total=Sum("quantity")).values("total")[:1]
    return Coalesce(
        Subquery(subquery, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


def _count(qs) -> Coalesce:
    subquery = (
        qs.order_by().annotate(_g=Value(1)).values("_g").annotate(n=Count("pk")).values("n")[:1]
    )
    return Coalesce(Subquery(subquery, output_field=IntegerField()), Value(0))


def allocated_quantity_expression():
    """In-stock quantity of the part allocated to builds and sales orders (see inventory.allocations)."""
    return part_allocated_expression()


def on_order_quantity_expression():
    """Quantity on open purchase orders not yet received, in part units (R50):
    Σ over lines of open orders with received < quantity of (quantity − received) × pack quantity.

    The orders app is reached through the app registry (inventory does not import it).
    """
    purchase_order = apps.get_model("orders", "PurchaseOrder")
    lines = apps.get_model("orders", "PurchaseOrderLine").objects.filter(
        supplier_part__part=OuterRef("pk"),
        order__status__in=purchase_order.OPEN_STATUSES,
        received__lt=F("quantity"),
    )
    outstanding_units = ExpressionWrapper(
        (F("quantity") - F("received")) * F("supplier_part__pack_quantity"), output_field=QUANTITY
    )
    subquery = (
        lines.order_by()
        .values("supplier_part__part")
        .annotate(total=Sum(outstanding_units))
        .values("total")[:1]
    )
    return Coalesce(
        Subquery(subquery, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


def parts_with_stock(queryset=None):
    """Parts annotated with ``in_stock``, ``allocated``, ``available``, ``on_order`` and ``low_stock``."""
    queryset = Part.objects.all() if queryset is None else queryset
    return queryset.annotate(
        in_stock=_sum_quantity(StockItem.objects.in_stock().filter(part=OuterRef("pk"))),
        allocated=allocated_quantity_expression(),
        on_order=on_order_quantity_expression(),
    ).annotate(
        available=ExpressionWrapper(F("in_stock") - F("allocated"), output_field=QUANTITY),
        low_stock=ExpressionWrapper(
            Q(minimum_stock__gt=0) & Q(in_stock__lt=F("minimum_stock")), output_field=BooleanField()
        ),
    )


def categories_with_counts(queryset=None):
    """Categories annotated with ``part_count`` (whole subtree) and ``child_count``."""
    queryset = PartCategory.objects.all() if queryset is None else queryset
    return queryset.annotate(
        part_count=_count(
            Part.objects.filter(category__tree_path__startswith=OuterRef("tree_path"))
        ),
        child_count=_count(PartCategory.objects.filter(parent=OuterRef("pk"))),
    )


def locations_with_counts(queryset=None):
    """Locations annotated with ``item_count`` (in-stock items in the whole subtree) and ``child_count``."""
    queryset = StockLocation.objects.all() if queryset is None else queryset
    return queryset.annotate(
        item_count=_count(
            StockItem.objects.in_stock().filter(
                location__tree_path__startswith=OuterRef("tree_path")
            )
        ),
        child_count=_count(StockLocation.objects.filter(parent=OuterRef("pk"))),
    )
