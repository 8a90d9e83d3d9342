"""Company and sourcing reads: counts and on-order figures as annotations (no per-row queries)."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from orders.choices import PURCHASE_OPEN
from orders.models import Company, PurchaseOrder, SupplierPart
from orders.selectors.purchase import on_order_by_supplier_part


def _count(rows, key) -> Coalesce:
    subquery = rows.order_by().values(key).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(subquery, output_field=IntegerField()), Value(0))


def companies_with_counts(queryset=None):
    """Companies annotated with ``supplier_part_count`` and ``open_purchase_orders``."""
    queryset = Company.objects.all() if queryset is None else queryset
    return queryset.annotate(
        supplier_part_count=_count(
            SupplierPart.objects.filter(supplier=OuterRef("pk")), "supplier"
        ),
        open_purchase_orders=_count(
            PurchaseOrder.objects.filter(supplier=OuterRef("pk"), status__in=PURCHASE_OPEN),
            "supplier",
        ),
    )


def supplier_parts_with_on_order(queryset=None):
    """Supplier parts annotated with ``on_order`` (packs on open orders, not yet received),
    with their price breaks prefetched (for price lookups without per-row queries)."""
    queryset = SupplierPart.objects.all() if queryset is None else queryset
    return queryset.annotate(on_order=on_order_by_supplier_part()).prefetch_related("price_breaks")
