"""Stock services for many items at once (status change, whole-item move), for bulk jobs.

They apply exactly the rules of their one-item counterparts in ``stock.py`` (same checks,
same messages, same tracking entries and history reasons) but write with a handful of
queries per batch instead of a handful per item: rows locked together (their parts and
locations prefetched), one ``UPDATE`` per changed field set, history and tracking rows
copied from the updated rows by the database (``INSERT … SELECT``), the maintained figures
moved by the batch's deltas (``inventory.figures.bulk_write``), never recomputed over all
the part's or location's items. An item a rule refuses is reported, not raised, so the
other items go ahead.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.utils import timezone

from inventory.choices import StockHistoryCode
from inventory.figures import bulk_write
from inventory.history_signals import announcing_bulk_history
from inventory.models import StockItem, StockItemTracking
from inventory.permissions import OwnershipRules, check_stock_ownership, ownership_enabled
from inventory.services.actors import history_user_id
from inventory.services.common import check_item_changeable, with_reason_suffix
from inventory.services.stock import _check_in_stock, _check_location, _location_delta, _to_status

H = StockHistoryCode


@dataclass
class BulkOutcome:
    """Per item: changed, skipped (already so, with why) or refused (with the rule's message)."""

    changed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


def _locked(items, *, locked=False):
    """The items' rows, locked, in primary-key order. ``locked=True``: ``items`` are rows the
    caller loaded with ``select_for_update()`` in the current transaction (the job runner's
    chunk), used as they are instead of being read a second time."""
    if locked:
        return sorted(items, key=lambda item: item.pk)
    ids = [item.pk for item in items]
    # prefetched, not joined: one part and one location instance for all the batch's items
    # of them (a join builds three model instances per row), and no outer join for
    # PostgreSQL to refuse to lock
    rows = StockItem.objects.select_for_update().prefetch_related("location", "part")
    return list(rows.filter(pk__in=ids).order_by("pk"))


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


def _write(items, fields, *, user, reason, code, notes, deltas):
    """Set ``fields`` of ``items`` (one value per field for all of them) with history, add their
    tracking entries (``code``, ``notes``, ``deltas`` per item id), move the figures by the
    write's deltas.

    One ``UPDATE … WHERE id IN (…)`` per batch: ``bulk_update``'s per-row CASE expression
    costs SQLite time quadratic in the batch size."""
    if not items:
        return
    now = timezone.now()
    values = {name: getattr(items[0], StockItem._meta.get_field(name).attname) for name in fields}
    for item in items:
        item.updated = now  # auto_now is not applied by bulk updates
    ids = [item.pk for item in items]
    with bulk_write(items, fields):
        for start in range(0, len(ids), 500):
            StockItem.objects.filter(pk__in=ids[start : start + 500]).update(
                **{StockItem._meta.get_field(n).attname: v for n, v in values.items()},
                updated=now,
            )
    _copy_history(ids, user=user, reason=with_reason_suffix(reason), date=now)
    _add_tracking(deltas, code=code, user=user, notes=notes, date=now)


def _insert_select(model, ids, *, copy, given) -> None:
    """Insert one ``model`` row per stock item of ``ids`` in the database, in primary-key
    order: ``INSERT INTO <model> (…) SELECT <copied columns>, <given values> FROM
    inventory_stockitem WHERE id IN (…)``. ``copy`` maps ``model`` fields to the stock item
    fields they copy, ``given`` ``model`` fields to one value for every row. No model
    instance is built or compiled per row (that was most of a bulk job's time)."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns, sources, values = [], [], []
    for name, source in copy.items():
        columns.append(model._meta.get_field(name).column)
        sources.append(quote(StockItem._meta.get_field(source).column))
    for name, value in given.items():
        field = model._meta.get_field(name)
        columns.append(field.column)
        values.append(field.get_db_prep_save(value, connection))
        # PostgreSQL types a parameter in a SELECT list as text (a NULL user too): cast it.
        # SQLite must not: CAST(… AS datetime) would turn the date into a number.
        if connection.vendor == "postgresql":
            sources.append(f"CAST(%s AS {field.cast_db_type(connection)})")
        else:
            sources.append("%s")
    table, pk = quote(StockItem._meta.db_table), quote(StockItem._meta.pk.column)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"SELECT {', '.join(sources)} FROM {table} "
            f"WHERE {pk} IN ({', '.join(['%s'] * len(batch))}) ORDER BY {pk}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values, *batch])


def _copy_history(ids, *, user, reason, date) -> None:
    """The "~" (changed) history rows of the items ``ids`` as they are now: the rows
    ``StockItem.history.bulk_history_create(items, update=True, default_user=user,
    default_change_reason=reason, default_date=date)`` writes after the ``UPDATE``
    (tests/inventory/test_stock_bulk_history.py compares the two), copied by the database."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not ids:
        return
    history = StockItem.history.model
    with announcing_bulk_history(history):
        _insert_select(
            history,
            ids,
            copy={field.name: field.name for field in history.tracked_fields},
            given={
                "history_date": date,
                "history_change_reason": reason,
                "history_type": "~",
                "history_user": history_user_id(user),
            },
        )


def _add_tracking(deltas, *, code, user, notes, date) -> None:
    """One tracking entry per item of ``deltas`` ({item id: deltas}), written per group of
    items with the same deltas (usually one group per batch)."""
    groups = defaultdict(list)
    for pk, each in deltas.items():
        groups[json.dumps(each, sort_keys=True)].append(pk)
    for key, ids in groups.items():
        _insert_select(
            StockItemTracking,
            sorted(ids),
            copy={"item": "id"},
            given={
                "tracking_type": int(code),
                "date": date,
                "user": getattr(user, "pk", None),
                "notes": notes,
                "deltas": json.loads(key),
            },
        )


@transaction.atomic
def stock_items_change_status(*, items, status, user, notes="", locked=False) -> BulkOutcome:
    """``stock_item_change_status`` for many items (``locked``: see ``_locked``)."""
    status = _to_status(status)
    outcome = BulkOutcome()
    rules = OwnershipRules(user) if ownership_enabled() else None
    changed, deltas = [], {}
    for item in _locked(items, locked=locked):
        if item.status == status:
            outcome.skipped[item.pk] = f"{item} is already {status.label}."
            continue
        try:
            check_item_changeable(item, "status")
            check_stock_ownership(user, item.location, rules=rules)
        except ValidationError as error:
            outcome.refused[item.pk] = _refusal(error)
            continue
        previous = item.status
        item.status = status
        changed.append(item)
        deltas[item.pk] = {"status": int(status), "previous_status": previous}
    _write(
        changed,
        ["status"],
        user=user,
        reason=f"Status changed to {status.label}",
        code=H.EDITED,
        notes=notes,
        deltas=deltas,
    )
    outcome.changed = [item.pk for item in changed]
    return outcome


@transaction.atomic
def stock_items_move(*, items, location, user, notes="", locked=False) -> BulkOutcome:
    """``stock_item_move`` of whole items for many items (no quantity: nothing is split;
    ``locked``: see ``_locked``)."""
    _check_location(location, user)
    outcome = BulkOutcome()
    rules = OwnershipRules(user) if ownership_enabled() else None
    changed, deltas = [], {}
    for item in _locked(items, locked=locked):
        if item.location_id == location.pk:
            outcome.skipped[item.pk] = f"{item} is already in {location}."
            continue
        try:
            check_item_changeable(item, "move")
            check_stock_ownership(user, item.location, rules=rules)
            _check_in_stock(item, "moved")
        except ValidationError as error:
            outcome.refused[item.pk] = _refusal(error)
            continue
        previous = item.location
        item.location = location
        changed.append(item)
        deltas[item.pk] = {
            **_location_delta(location),
            "previous_location": previous.pk if previous else None,
            "previous_location_path": previous.pathstring if previous else "",
        }
    _write(
        changed,
        ["location"],
        user=user,
        reason=f"Moved to {location.pathstring}",
        code=H.STOCK_MOVE,
        notes=notes,
        deltas=deltas,
    )
    outcome.changed = [item.pk for item in changed]
    return outcome
