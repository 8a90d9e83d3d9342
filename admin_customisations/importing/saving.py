"""Bulk writes of imported rows with their history, without Django's per-row SQL compilation.

simple-history's ``bulk_create_with_history`` / ``bulk_update_with_history`` write the
right rows but go through ``QuerySet.bulk_create`` / ``bulk_update``, which compile SQL
for every value of every small batch (SQLite allows few parameters per statement) and,
for updates, build a ``CASE WHEN id = ... THEN ...`` per field that SQLite evaluates row by
row (quadratic in the batch). At 100,000 rows that compilation costs more than the
database work. Here one prepared statement per chunk runs with ``executemany``:

- ``create_with_history(model, objs, user=, reason=)``: primary keys are reserved first
  (PostgreSQL: from the table's sequence; SQLite: after the highest id in use or ever
  handed out, while this transaction holds SQLite's write lock), ``pre_save`` gives the
  ``auto_now_add`` dates (one timestamp per chunk, like the history rows'), then one INSERT for the objects and one for their
  historical records (type "+", the importing user, the reason, one timestamp) — the same
  rows ``bulk_create_with_history`` would write, as its ``default_user`` /
  ``default_change_reason`` would attribute them.
- ``update_with_history(model, objs, fields, user=, reason=)``: one ``UPDATE ... SET
  <fields> WHERE id = ?`` per group of objects changing the same fields, and historical
  records of type "~".

Other database vendors fall back to simple-history's helpers. Nothing here sends model
signals (neither do the helpers); callers use it only for models whose ``save()`` adds
nothing (parts, templates, parameters with ``data_numeric`` set by the caller).
"""

from __future__ import annotations

from collections import defaultdict
from operator import attrgetter

from django.db import connection, models
from django.utils import timezone

from inventory.history_signals import announcing_bulk_history
from inventory.services.actors import attributed_user, history_user_id

FAST_VENDORS = ("sqlite", "postgresql")


def _memo(adapt):
    """``adapt`` remembering its last answer: an object's timestamps are adapted again for
    its history row, and the history rows of a chunk share one timestamp."""
    last = [object(), None]

    def adapted(value):
        if value is not last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return adapted


def db_adapter(field):
    """The backend adapter a value of ``field`` needs before ``executemany`` (None: as is)."""
    ops = connection.ops
    if isinstance(field, models.DecimalField):
        return lambda v: (
            None
            if v is None
            else ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
        )
    if isinstance(field, models.DateTimeField):
        return _memo(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.TimeField):
        return ops.adapt_timefield_value
    if isinstance(field, (models.JSONField, models.UUIDField)):
        return lambda v: field.get_db_prep_save(v, connection)
    return None


def _values(objs, fields, adapters, tail=()):
    """One parameter list per object: its ``fields`` (adapted where needed), then ``tail``."""
    get = attrgetter(*(f.attname for f in fields))
    single = len(fields) == 1
    adapt_at = [(i, adapt) for i, adapt in enumerate(adapters) if adapt]
    tail = list(tail)
    rows = []
    for obj in objs:
        row = [get(obj)] if single else list(get(obj))
        for i, adapt in adapt_at:
            row[i] = adapt(row[i])
        if tail:
            row += tail
        rows.append(row)
    return rows


def _reserve_ids(model, count: int) -> list[int]:
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT MAX({connection.ops.quote_name(pk)}) FROM {connection.ops.quote_name(table)}"
        )
        highest = cursor.fetchone()[0] or 0
        try:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            highest = max(highest, row[0] if row else 0)
        except Exception:  # noqa: BLE001  (no AUTOINCREMENT table: MAX is enough)
            pass
    return list(range(highest + 1, highest + 1 + count))


def _insert(model, objs, fields) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    adapters = [db_adapter(f) for f in fields]
    with connection.cursor() as cursor:
        cursor.executemany(sql, _values(objs, fields, adapters))


def _insert_history(model, objs, *, history_type, user, reason) -> None:
    """One historical record per object, as simple-history's bulk_history_create builds them."""
    history_model = model.history.model
    fields = [f for f in history_model._meta.concrete_fields if not f.primary_key]
    fixed = {
        "history_date": timezone.now(),
        "history_user_id": history_user_id(user),
        "history_change_reason": reason,
        "history_type": history_type,
    }
    # the object's values per row, then the fixed values (adapted once)
    varying = [f for f in fields if f.attname not in fixed]
    constant = [f for f in fields if f.attname in fixed]
    tail = []
    for f in constant:
        adapt = db_adapter(f)
        tail.append(adapt(fixed[f.attname]) if adapt else fixed[f.attname])
    rows = _values(objs, varying, [db_adapter(f) for f in varying], tail)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in varying + constant)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(history_model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with announcing_bulk_history(history_model), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def create_with_history(model, objs: list, *, user, reason: str) -> list:
    """Insert ``objs`` (unsaved) and their "+" history rows; sets their primary keys."""
    if not objs:
        return objs
    if connection.vendor not in FAST_VENDORS:
        from simple_history.utils import bulk_create_with_history

        return bulk_create_with_history(
            objs,
            model,
            batch_size=500,
            default_user=attributed_user(user),
            default_change_reason=reason,
        )
    ids = _reserve_ids(model, len(objs))
    fields = list(model._meta.concrete_fields)
    automatic = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    stamps: dict = {}  # one auto_now(_add) timestamp per chunk, as history_date
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        for f in automatic:
            if f.attname in stamps:
                setattr(obj, f.attname, stamps[f.attname])
            else:
                stamps[f.attname] = f.pre_save(obj, True)
        obj._state.adding = False
        obj._state.db = connection.alias
    _insert(model, objs, fields)
    if hasattr(model, "history"):
        _insert_history(model, objs, history_type="+", user=user, reason=reason)
    return objs


def update_with_history(model, objs: list, fields_of, *, user, reason: str) -> None:
    """Write the changed fields of ``objs`` and their "~" history rows.

    ``fields_of(obj)`` names the model fields that changed on ``obj``; objects are grouped
    by that set, one prepared UPDATE per group."""
    if not objs:
        return
    if connection.vendor not in FAST_VENDORS:
        from simple_history.utils import bulk_update_with_history

        names = sorted({name for obj in objs for name in fields_of(obj)})
        bulk_update_with_history(
            objs,
            model,
            names,
            batch_size=250,
            default_user=attributed_user(user),
            default_change_reason=reason,
        )
        return
    quote = connection.ops.quote_name
    groups: dict[tuple, list] = defaultdict(list)
    for obj in objs:
        groups[tuple(sorted(fields_of(obj)))].append(obj)
    auto_now = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        for names, members in groups.items():
            fields = [model._meta.get_field(n) for n in names] + auto_now
            fields = list(dict.fromkeys(fields))
            for obj in members:
                for f in auto_now:
                    f.pre_save(obj, False)
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            sql = (
                f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
                f"WHERE {quote(pk.column)} = %s"
            )
            adapters = [db_adapter(f) for f in fields]
            values = _values(members, fields, adapters)
            for row, obj in zip(values, members, strict=True):
                row.append(obj.pk)
            cursor.executemany(sql, values)
    if hasattr(model, "history"):
        _insert_history(model, objs, history_type="~", user=user, reason=reason)
