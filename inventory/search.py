"""Searches that indexes serve, on SQLite and PostgreSQL alike.

Prefix matches (materialised paths, batch codes, IPNs): ``field__startswith`` is
``LIKE 'x%'``. PostgreSQL serves that from a ``varchar_pattern_ops`` index (Django creates one
next to every ``db_index=True`` CharField; other columns declare one in ``Meta.indexes``).
SQLite's LIKE is case-insensitive, so no ordinary index can serve it there; the range
``prefix <= field < next(prefix)`` is the same set of strings in SQLite's byte order and any
B-tree serves it (the LIKE is kept to make the match exact whatever the collation).

Stock item search (the stock changelist's box and the "installed in" autocomplete): the
term is matched as the exact serial number, a batch code prefix or a part IPN prefix, each
as typed and in upper case. Substring search (``LIKE '%x%'``) reads every row and is not used.
"""

from django.db import connection
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.db.models.lookups import GreaterThanOrEqual, LessThan, StartsWith


def prefix_upper(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def prefix_q(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix`` (case-sensitive on PostgreSQL and SQLite), index-served."""
    if not prefix:
        return Q()
    q = Q(**{f"{field}__startswith": prefix})
    if connection.vendor == "sqlite":
        q &= Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix_upper(prefix)})
    return q


def lower_prefix_q(fields, term: str) -> Q:
    """Any of ``fields`` starts with ``term`` ignoring case (the part autocomplete: IPN or
    name). SQLite: the range on ``lower(field)``, served by an expression index such as
    ``part_name_lower_idx``. PostgreSQL: ``lower(field) LIKE 'term%'``."""
    term = term.lower()
    q = Q()
    if not term:
        return q
    for field in fields:
        lowered = Lower(field)
        if connection.vendor == "sqlite":
            q |= Q(GreaterThanOrEqual(lowered, Value(term))) & Q(
                LessThan(lowered, Value(prefix_upper(term)))
            )
        else:
            q |= Q(StartsWith(lowered, Value(term)))
    return q


# at most this many parts matched by IPN prefix are passed to the stock query as a list
IPN_PART_LIST_MAX = 1000


def stock_item_search_q(term: str) -> Q:
    """Exact serial, batch prefix or part IPN prefix (as typed or upper-cased).

    The parts whose IPN matches are looked up first (one query on the part table's IPN index)
    and passed as a list of ids: PostgreSQL can then combine the serial, batch and part_id
    indexes (a bitmap OR) and estimate how many items match; with the part subquery inside
    the OR it reads the stock table backwards from the newest item, which for a rare batch
    code is every row. Above ``IPN_PART_LIST_MAX`` matching parts the subquery is used."""
    from inventory.models import Part

    term = term.strip()
    if not term:
        return Q()
    variants = sorted({term, term.upper()})
    q = Q(serial__in=variants)
    for variant in variants:
        q |= prefix_q("batch", variant)
    ipn = Q()
    for variant in variants:
        ipn |= prefix_q("ipn", variant)
    parts = Part.objects.filter(ipn).order_by().values_list("pk", flat=True)
    part_ids = list(parts[: IPN_PART_LIST_MAX + 1])
    if len(part_ids) > IPN_PART_LIST_MAX:
        return q | Q(part__in=parts)
    return q | Q(part_id__in=part_ids) if part_ids else q
