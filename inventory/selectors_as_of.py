"""Stock as of a date: the quantity per part (optionally per location) held at a moment,
next to today's, reconstructed from the stock items' history (docs/history.md, "Stock as
of a date").

Every stock service writes the item's simple-history row (``HistoricalStockItem``: quantity,
location, status, customer, installed in, sales order, consumed by, in production, part) in
the same transaction as its tracking entry, the bulk ``INSERT … SELECT`` paths included. So
the state of an item at ``when`` is its latest history row with ``history_date <= when``
(``history_type`` "-": the item was gone), and what was held then is that row evaluated by
the one definition of "in stock", ``StockItemQuerySet.in_stock()``, run over the historical
table. The tracking entries' ``deltas`` are not a uniform snapshot and are not read.

Filters: ``part``, ``category`` (its subtree) and ``location`` (its subtree, by where the item
was then for the past figure and where it is now for today's; the trees as they are today).

The latest row per item is ``MAX(history_id) … GROUP BY id`` over the rows dated at or
before ``when`` (see ``latest_history_ids_sql``; measured against a window function and a
correlated subquery: docs/performance.md). Today's figure per part is the maintained
``Part.in_stock_total`` (what the part pages show); per location or within a location it is
summed from the live stock items with ``in_stock()``.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router
from django.db.models import F, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from inventory.models import Part, PartCategory, StockItem, StockLocation
from inventory.models.stock import StockItemQuerySet
from inventory.search import prefix_q

ZERO = Decimal(0)


@dataclass
class StockAsOfRow:
    """One part (and location, with ``per_location``): held then, held now, the change."""

    part_id: int
    part_name: str
    part_ipn: str
    units: str
    location_id: int | None
    location_path: str
    quantity_then: Decimal
    quantity_now: Decimal
    location_deleted: bool = False

    @property
    def difference(self) -> Decimal:
        return self.quantity_now - self.quantity_then


def history_model():
    return StockItem.history.model


def _parts_in_scope(part=None, category=None):
    """A Part queryset of the parts asked about, or None for every part."""
    if part is None and category is None:
        return None
    parts = Part.objects.all()
    if part is not None:
        parts = parts.filter(pk=getattr(part, "pk", part))
    if category is not None:
        categories = PartCategory.objects.filter(prefix_q("tree_path", category.tree_path))
        parts = parts.filter(category__in=categories)
    return parts.values("pk")


def _locations_in_scope(location=None):
    if location is None:
        return None
    return StockLocation.objects.filter(prefix_q("tree_path", location.tree_path)).values("pk")


def latest_history_ids_sql(*, when, parts=None, locations=None):
    """(sql, params) selecting the ``history_id`` of each item's latest history row at
    ``when`` (items of ``parts``, a Part values("pk") queryset, or of every part; only items
    that were ever in ``locations``, a StockLocation values("pk") queryset, if given: an
    item never there cannot have been there at ``when``).

    The latest is the highest ``history_id`` among the item's rows dated at or before
    ``when``: every write to an item holds its row lock (the services' ``select_for_update``)
    until it commits, so an item's history ids follow the order its changes happened, even
    if a clock stepped back between two of them (its dates would then disagree). Served by
    ``hist_stockitem_part_item_idx`` (part, id, date, history id) without reading the rows."""
    model = history_model()
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    date = model._meta.get_field("history_date")
    where = [f"{quote(date.column)} <= %s"]
    params = [date.get_db_prep_value(when, connection)]
    if parts is not None:
        part_sql, part_params = parts.query.sql_with_params()
        where.append(f"{quote(model._meta.get_field('part').column)} IN ({part_sql})")
        params.extend(part_params)
    item = quote(model._meta.get_field("id").column)
    if locations is not None:
        location_sql, location_params = locations.query.sql_with_params()
        where.append(
            f"{item} IN (SELECT {item} FROM {quote(model._meta.db_table)} WHERE "
            f"{quote(model._meta.get_field('location').column)} IN ({location_sql}))"
        )
        params.extend(location_params)
    sql = (
        f"SELECT MAX({quote('history_id')}) FROM {quote(model._meta.db_table)} "
        f"WHERE {' AND '.join(where)} GROUP BY {item}"
    )
    return sql, params


def held_then(*, when, part=None, category=None, location=None):
    """The history rows of the items in stock at ``when`` (a queryset of HistoricalStockItem
    filtered by ``StockItemQuerySet.in_stock()``)."""
    model = history_model()
    locations = _locations_in_scope(location)
    sql, params = latest_history_ids_sql(
        when=when, parts=_parts_in_scope(part, category), locations=locations
    )
    rows = StockItemQuerySet(model=model, using=router.db_for_read(model))
    rows = rows.filter(history_id__in=RawSQL(sql, params)).exclude(history_type="-")
    if locations is not None:
        rows = rows.filter(location__in=locations)
    return rows.in_stock()


def held_now(*, part=None, category=None, location=None):
    """The stock items in stock today, with the same filters."""
    items = StockItem.objects.all()
    parts = _parts_in_scope(part, category)
    if parts is not None:
        items = items.filter(part__in=parts)
    locations = _locations_in_scope(location)
    if locations is not None:
        items = items.filter(location__in=locations)
    return items.in_stock()


def _totals(queryset, per_location: bool) -> dict:
    keys = ["part_id", "location_id"] if per_location else ["part_id"]
    rows = (
        queryset.order_by()
        .values(*keys)
        .annotate(total=Sum(F("quantity")))
        .values_list(*keys, "total")
    )
    if per_location:
        return {(part_id, loc): total for part_id, loc, total in rows}
    return {(part_id, None): total for part_id, total in rows}


def _maintained_totals(*, part=None, category=None) -> dict:
    """{(part id, None): in stock today} from the maintained figure (inventory.figures)."""
    parts = Part.objects.filter(in_stock_total__gt=0)
    scope = _parts_in_scope(part, category)
    if scope is not None:
        parts = parts.filter(pk__in=scope)
    return {(pk, None): total for pk, total in parts.values_list("pk", "in_stock_total")}


def _in_chunks(queryset, field, ids, *names):
    """``queryset.filter(<field>__in=ids).values_list(*names)`` in chunks of 10,000 ids."""
    ids = sorted(ids)
    for start in range(0, len(ids), 10_000):
        yield from queryset.filter(**{f"{field}__in": ids[start : start + 10_000]}).values_list(
            *names
        )


def check_when(when):
    """``when`` as an aware datetime, refused (ValueError) in the future."""
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > timezone.now():
        raise ValueError("The date and time must not be in the future.")
    return when


def stock_as_of(
    *, when, part=None, category=None, location=None, per_location=False
) -> list[StockAsOfRow]:
    """The quantity of each part held at ``when`` (per part, or per part and location with
    ``per_location``) and today, for the parts of ``part`` / ``category``'s subtree and the
    stock in ``location``'s subtree; rows where either figure is non-zero, by part name
    (then location path)."""
    when = check_when(when)
    then = _totals(
        held_then(when=when, part=part, category=category, location=location), per_location
    )
    if per_location or location is not None:
        now = _totals(held_now(part=part, category=category, location=location), per_location)
    else:
        now = _maintained_totals(part=part, category=category)
    keys = [key for key in {*then, *now} if then.get(key) or now.get(key)]
    parts = {
        pk: {"name": name, "ipn": ipn, "units": units}
        for pk, name, ipn, units in _in_chunks(
            Part.objects.all(), "pk", {k[0] for k in keys}, "pk", "name", "ipn", "units"
        )
    }
    paths = dict(
        _in_chunks(
            StockLocation.objects.all(), "pk", {k[1] for k in keys if k[1]}, "pk", "pathstring"
        )
    )
    gone = {k[1] for k in keys if k[1] and k[1] not in paths}
    deleted = set(gone)
    if gone:  # locations deleted since: their last name, from their history
        names = StockLocation.history.filter(id__in=gone).order_by("id", "history_id")
        paths.update(
            {pk: f"{name} (deleted location)" for pk, name in names.values_list("id", "name")}
        )
    result = []
    for part_id, location_id in keys:
        info = parts.get(part_id, {"name": f"deleted part #{part_id}", "ipn": "", "units": ""})
        result.append(
            StockAsOfRow(
                part_id=part_id,
                part_name=info["name"],
                part_ipn=info["ipn"],
                units=info["units"],
                location_id=location_id,
                location_path=paths.get(location_id, "") if location_id else "",
                quantity_then=then.get((part_id, location_id)) or ZERO,
                quantity_now=now.get((part_id, location_id)) or ZERO,
                location_deleted=location_id in deleted,
            )
        )
    result.sort(key=lambda row: (row.part_name.lower(), row.part_id, row.location_path))
    return result
