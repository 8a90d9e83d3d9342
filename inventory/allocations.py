"""Stock set aside for builds and sales orders, in one place.

``inventory`` knows nothing of the apps that allocate stock; each registers
its allocation model here from its AppConfig.ready(). Every figure that needs
"allocated" (a part's available stock, an item's unallocated quantity, the
over-allocation check) is computed from these registrations, so a new kind of
allocation is added once and counted everywhere.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

QUANTITY = DecimalField(max_digits=20, decimal_places=5)


@dataclass(frozen=True)
class AllocationSource:
    """A model whose rows hold stock: ``model`` label, its stock-item FK name, and which rows still hold."""

    model: str
    item_field: str
    holding: Q
    quantity_field: str = "quantity"

    def rows(self):
        return apps.get_model(self.model).objects.filter(self.holding)


_SOURCES: dict[str, AllocationSource] = {}


def register_allocation_source(source: AllocationSource) -> None:
    _SOURCES[source.model] = source


def allocation_sources() -> list[AllocationSource]:
    return list(_SOURCES.values())


def allocation_source(model: str) -> AllocationSource:
    """The registered source of model label ``model`` (e.g. ``"builds.BuildItem"``)."""
    return _SOURCES[model]


def _sum_subquery(source: AllocationSource, **outer_filter) -> Coalesce:
    rows = source.rows().filter(**outer_filter).order_by()
    total = (
        rows.values(f"{source.item_field}__part")
        .annotate(t=Sum(source.quantity_field))
        .values("t")[:1]
    )
    return Coalesce(
        Subquery(total, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


def item_allocated_expression(item_ref: str = "pk"):
    """Annotation: quantity of the stock item (OuterRef ``item_ref``) held by all allocations."""
    expressions = [
        _sum_subquery(s, **{s.item_field: OuterRef(item_ref)}) for s in allocation_sources()
    ]
    return (
        sum(expressions[1:], expressions[0])
        if expressions
        else Value(Decimal(0), output_field=QUANTITY)
    )


def part_allocated_expression(part_ref: str = "pk"):
    """Annotation: quantity of the part's in-stock items held by all allocations."""
    from inventory.models import StockItem

    # the in-stock set of this part only (not the whole table, which SQLite re-reads per row)
    in_stock = StockItem.objects.in_stock().filter(part=OuterRef(OuterRef(part_ref))).values("pk")
    expressions = [
        _sum_subquery(
            s, **{f"{s.item_field}__part": OuterRef(part_ref), f"{s.item_field}__in": in_stock}
        )
        for s in allocation_sources()
    ]
    return (
        sum(expressions[1:], expressions[0])
        if expressions
        else Value(Decimal(0), output_field=QUANTITY)
    )


def allocated_by_item(item_ids, *, exclude: tuple = ()) -> dict[int, Decimal]:
    """{item id: allocated quantity} for the given items (one query per allocation source).

    ``exclude`` is a sequence of (model label, pk) rows to leave out, e.g. the
    allocation being edited.
    """
    totals: dict[int, Decimal] = {}
    for source in allocation_sources():
        rows = source.rows().filter(**{f"{source.item_field}__in": list(item_ids)})
        skip = [pk for label, pk in exclude if label == source.model]
        if skip:
            rows = rows.exclude(pk__in=skip)
        for item_id, total in (
            rows.order_by().values_list(source.item_field).annotate(t=Sum(source.quantity_field))
        ):
            totals[item_id] = totals.get(item_id, Decimal(0)) + total
    return totals


def allocated_by_part(part_ids) -> dict[int, Decimal]:
    """{part id: allocated quantity of its in-stock items}, in one query.

    Driven from the allocation rows (few: only those still holding stock), not from the
    parts' stock: per source the holding rows of these parts whose item is in stock (an
    ``EXISTS`` on the item's primary key, ``StockItemQuerySet.in_stock``) summed by part,
    the sources joined by ``UNION ALL``. The cost follows the allocations of these parts,
    never their stock (a deep BOM's thousands of parts own tens of thousands of items).
    """
    from inventory.models import StockItem

    part_ids = list(part_ids)
    sources = allocation_sources()
    if not part_ids or not sources:
        return {}
    grouped = [
        source.rows()
        .filter(
            Exists(StockItem.objects.in_stock().filter(pk=OuterRef(source.item_field))),
            **{f"{source.item_field}__part__in": part_ids},
        )
        .order_by()
        .values_list(f"{source.item_field}__part")
        .annotate(t=Sum(source.quantity_field, output_field=QUANTITY))
        for source in sources
    ]
    rows = grouped[0].union(*grouped[1:], all=True) if len(grouped) > 1 else grouped[0]
    totals: dict[int, Decimal] = {}
    for part_id, total in rows:
        totals[part_id] = totals.get(part_id, Decimal(0)) + total
    return totals
