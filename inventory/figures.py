"""Maintained figures: ``Part.in_stock_total`` (Σ quantity of the part's in-stock items) and
``StockLocation.items_stored`` (number of stock items stored directly in the location).

Why maintained (docs/decisions.md, "Figures on big lists"): the part list's "low stock" and
"has stock" filters and the "in stock" sort need the figure for every part, and the location
list's subtree counts need the items under the root, which at a million stock items is
seconds (or a quarter of a second) of summing or counting per request. Every stock change is
a ``StockItem.save()`` or ``.delete()`` (the services write through ``save_with_history`` /
``delete_with_history``), so the receivers below recompute the figures of the item's part and
location (and of its previous part and location, if they changed) from scratch in the same
transaction: correct by construction, whatever the service changed (quantity, status,
location, installation, customer, build, shipment). Code that writes stock in bulk
(``bulk_create``, ``update()``, the data generator) calls ``refresh_item_figures(items)`` or
``refresh_part_stock`` / ``refresh_location_counts`` itself; either without arguments
repairs every row.

The bulk stock services (``inventory.services.stock_bulk``) apply *deltas* instead
(``bulk_write``): the in-stock sum of the batch's items per part before and after the write,
and the batch's items leaving and entering locations, added to the figures with ``F()``. A
batch then costs O(batch) whatever the part's or location's size (recomputing a part with
100,000 items for every chunk of a job made the job quadratic). Deltas keep a figure right
only if it was right before; the recompute stays the one-item path and the repair.
"""

import contextvars
from collections import Counter, defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.db.models.signals import post_delete, post_init, post_save

QUANTITY = DecimalField(max_digits=20, decimal_places=5)


def in_stock_sum_expression(part_ref: str = "pk") -> Coalesce:
    """Σ quantity of the in-stock items of the part at OuterRef ``part_ref`` (0 without any)."""
    from inventory.models import StockItem

    total = (
        StockItem.objects.in_stock()
        .filter(part=OuterRef(part_ref))
        .order_by()
        .values("part")
        .annotate(t=Sum("quantity"))
        .values("t")[:1]
    )
    return Coalesce(
        Subquery(total, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


@transaction.atomic  # the row locks need a transaction (PostgreSQL, autocommit callers)
def refresh_part_stock(part_ids=None) -> None:
    """Recompute ``in_stock_total`` of the given parts (all parts when ``None``).

    The part rows are locked first, so a concurrent transaction changing the same part's
    stock recomputes after this one commits (and sees its items)."""
    from inventory.models import Part

    parts = Part.objects.all()
    if part_ids is not None:
        part_ids = sorted({pk for pk in part_ids if pk is not None})
        if not part_ids:
            return
        parts = parts.filter(pk__in=part_ids)
        list(parts.select_for_update().values_list("pk", flat=True))
    parts.update(in_stock_total=in_stock_sum_expression())


def location_count_expression(location_ref: str = "pk") -> Coalesce:
    """Number of stock items stored directly in the location at OuterRef ``location_ref``."""
    from inventory.models import StockItem

    count = (
        StockItem.objects.filter(location=OuterRef(location_ref))
        .order_by()
        .values("location")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


@transaction.atomic
def refresh_location_counts(location_ids=None) -> None:
    """Recompute ``items_stored`` of the given locations (all locations when ``None``),
    locking their rows first like ``refresh_part_stock``."""
    from inventory.models import StockLocation

    locations = StockLocation.objects.all()
    if location_ids is not None:
        location_ids = sorted({pk for pk in location_ids if pk is not None})
        if not location_ids:
            return
        locations = locations.filter(pk__in=location_ids)
        list(locations.select_for_update().values_list("pk", flat=True))
    locations.update(items_stored=location_count_expression())


def refresh_item_figures(items) -> None:
    """After writing ``items`` without ``save()`` (bulk updates): refresh the figures of their
    parts and locations, current and as loaded (an item moved in bulk leaves its old
    location too)."""
    parts, locations = set(), set()
    for item in items:
        parts.update((item.part_id, getattr(item, "_figures_part_id", None)))
        locations.update((item.location_id, getattr(item, "_figures_location_id", None)))
        item._figures_part_id = item.part_id
        item._figures_location_id = item.location_id
    _refresh(parts, locations)


# Writing these fields cannot change whether an item is in stock (only where it is).
_STOCK_NEUTRAL_FIELDS = frozenset({"location", "notes", "updated"})
_IN_CLAUSE = 500  # ids per IN (…): SQLite's variable limit, PostgreSQL's planner


def in_stock_sums(item_ids) -> dict[int, Decimal]:
    """Σ quantity of the in-stock ones among ``item_ids``, per part (parts without any
    in-stock item among them are left out)."""
    from inventory.models import StockItem

    ids = list(item_ids)
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for start in range(0, len(ids), _IN_CLAUSE):
        rows = (
            StockItem.objects.in_stock()
            .filter(pk__in=ids[start : start + _IN_CLAUSE])
            .order_by()
            .values("part")
            .annotate(t=Sum("quantity"))
            .values_list("part", "t")
        )
        for part_id, total in rows:
            sums[part_id] += total
    return dict(sums)


def _add(model, field, deltas, *, floor=None) -> None:
    """``field = field + delta`` for each row of ``deltas`` ({pk: delta}), rows locked in
    primary-key order first (as the recompute locks them, so the two cannot deadlock); one
    ``UPDATE`` per distinct delta."""
    deltas = {pk: d for pk, d in deltas.items() if pk is not None and d}
    if not deltas:
        return
    ids = sorted(deltas)
    for start in range(0, len(ids), _IN_CLAUSE):
        rows = model.objects.filter(pk__in=ids[start : start + _IN_CLAUSE]).order_by("pk")
        list(rows.select_for_update().values_list("pk", flat=True))
    by_delta = defaultdict(list)
    for pk in ids:
        by_delta[deltas[pk]].append(pk)
    for delta, pks in by_delta.items():
        value = F(field) + delta
        if floor is not None and delta < 0:
            value = Greatest(value, Value(floor))  # a counter that was wrong stays >= 0
        for start in range(0, len(pks), _IN_CLAUSE):
            model.objects.filter(pk__in=pks[start : start + _IN_CLAUSE]).update(**{field: value})


def add_to_figures(*, parts=None, locations=None) -> None:
    """Add ``parts`` ({part id: Δ in-stock quantity}) to ``in_stock_total`` and ``locations``
    ({location id: Δ items}) to ``items_stored``."""
    from inventory.models import Part, StockLocation

    _add(Part, "in_stock_total", parts or {})
    _add(StockLocation, "items_stored", locations or {}, floor=0)


@contextmanager
def bulk_write(items, fields):
    """Around an ``update()`` of ``fields`` on ``items`` (loaded, changed in memory, rows
    locked): apply the write's change to the figures as deltas, inside the caller's
    transaction.

    In-stock sums of the items are read before and after the write (by the one in-stock
    definition, ``StockItem.objects.in_stock()``), per part, so a status change into or out
    of an available status, or any other field that decides "in stock", moves the part's
    figure by exactly the difference; a write of only stock-neutral fields (a move) reads
    nothing. Locations: each item that changed location leaves the one it was loaded in and
    enters its new one."""
    ids = [item.pk for item in items]
    stock_may_change = bool(set(fields) - _STOCK_NEUTRAL_FIELDS)
    before = in_stock_sums(ids) if stock_may_change and ids else {}
    yield
    if not ids:
        return
    parts: Counter = Counter()
    if stock_may_change:
        parts.update(in_stock_sums(ids))
        parts.subtract(before)
    locations: Counter = Counter()
    for item in items:
        old = getattr(item, "_figures_location_id", item.location_id)
        if old != item.location_id:
            locations[old] -= 1
            locations[item.location_id] += 1
        item._figures_part_id = item.part_id
        item._figures_location_id = item.location_id
    add_to_figures(parts=dict(parts), locations=dict(locations))


_deferred = contextvars.ContextVar("stockroom_figures_deferred", default=None)


@contextmanager
def deferred_refresh():
    """Inside, item saves only note their parts and locations; the figures are recomputed
    once at the end (still inside the caller's transaction). For bulk work that saves many
    items of the same part; nothing in the services reads the figures in between."""
    if _deferred.get() is not None:  # nested: the outer block refreshes
        yield
        return
    parts: set = set()
    locations: set = set()
    token = _deferred.set((parts, locations))
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh_part_stock(parts)
    refresh_location_counts(locations)


def _refresh(part_ids, location_ids) -> None:
    pending = _deferred.get()
    if pending is None:
        refresh_part_stock(part_ids)
        refresh_location_counts(location_ids)
    else:
        pending[0].update(pk for pk in part_ids if pk is not None)
        pending[1].update(pk for pk in location_ids if pk is not None)


def _remember(sender, instance, **kwargs):
    instance._figures_part_id = instance.__dict__.get("part_id")
    instance._figures_location_id = instance.__dict__.get("location_id")


def _item_saved(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: figures are refreshed once afterwards
        return
    _refresh(
        {instance.part_id, getattr(instance, "_figures_part_id", None)},
        {instance.location_id, getattr(instance, "_figures_location_id", None)},
    )
    instance._figures_part_id = instance.part_id
    instance._figures_location_id = instance.location_id


def _item_deleted(sender, instance, **kwargs):
    _refresh(
        {instance.part_id, getattr(instance, "_figures_part_id", None)},
        {instance.location_id, getattr(instance, "_figures_location_id", None)},
    )


def connect() -> None:
    """Called from InventoryConfig.ready()."""
    from inventory.models import StockItem

    post_init.connect(_remember, sender=StockItem, dispatch_uid="figures_remember_part")
    post_save.connect(_item_saved, sender=StockItem, dispatch_uid="figures_item_saved")
    post_delete.connect(_item_deleted, sender=StockItem, dispatch_uid="figures_item_deleted")
