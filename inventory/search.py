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

Part list search (``part_search_q``): IPN prefix ignoring case, or every word of the term as a
word prefix of the part's name, description or keywords (full text): PostgreSQL
``to_tsvector('simple', ...) @@ to_tsquery`` on ``part_text_search_idx`` (GIN), SQLite the FTS5
table ``inventory_part_fts`` kept in sync by triggers (migration 0010). Only runs of letters
and digits from the user's term reach either query syntax, so quotes, ``*``, ``-``, ``:`` or
``NEAR`` are never interpreted.
"""

import re

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL
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


# the words of a search term, as both full-text engines split them (letters and digits)
_WORD = re.compile(r"[^\W_]+")
# words of a term used at most (a longer paste still searches, on its first words)
SEARCH_WORDS_MAX = 8


def search_words(term: str) -> list[str]:
    """The term's words, lower-cased, at most ``SEARCH_WORDS_MAX``, nothing else of it."""
    return _WORD.findall(term.lower())[:SEARCH_WORDS_MAX]


def part_text_sql(term: str) -> tuple[str, list] | None:
    """``SELECT`` of the ids of the parts whose name, description or keywords contain a word
    starting with each word of ``term`` (all of them, any order), served by the full-text
    index; ``None`` on a database without one."""
    words = search_words(term)
    if not words:
        return "SELECT id FROM inventory_part WHERE 1 = 0", []
    if connection.vendor == "sqlite":
        match = " ".join(f'"{word}"*' for word in words)
        return "SELECT rowid FROM inventory_part_fts WHERE inventory_part_fts MATCH %s", [match]
    if connection.vendor == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        sql = (
            "SELECT id FROM inventory_part WHERE to_tsvector('simple'::regconfig, "
            "name || ' ' || description || ' ' || keywords) "
            "@@ to_tsquery('simple'::regconfig, %s)"
        )
        return sql, [query]
    return None


def part_text_q(term: str) -> Q:
    """The parts ``part_text_sql`` selects (other databases: each word anywhere in the three
    columns, no index)."""
    found = part_text_sql(term)
    if found is not None:
        return Q(pk__in=RawSQL(*found))
    q = Q()
    for word in search_words(term):
        q &= Q(name__icontains=word) | Q(description__icontains=word) | Q(keywords__icontains=word)
    return q


def part_search_q(term: str) -> Q:
    """The part list's search: IPN prefix ignoring case, or the words of the term (full text
    on name, description and keywords).

    One ``id IN (... UNION ...)``: each half is read from its own index (lower(ipn), full
    text); ``ipn_condition OR id IN (full-text subquery)`` made PostgreSQL scan the whole part
    table testing both on every row."""
    from inventory.models import Part

    term = term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in a string
    if not term:
        return Q()
    ipn = Part.objects.filter(lower_prefix_q(["ipn"], term)).order_by().values("pk")
    text = part_text_sql(term)
    if text is None:
        return Q(pk__in=ipn) | part_text_q(term)
    ipn_sql, ipn_params = ipn.query.sql_with_params()
    return part_ids_q(f"{ipn_sql} UNION {text[0]}", [*ipn_params, *text[1]])


def part_autocomplete_q(term: str) -> Q:
    """The part autocomplete: IPN or name starts with ``term`` ignoring case (their lower()
    indexes), the matching ids found first (``part_ids_q``)."""
    from inventory.models import Part

    term = term.replace("\x00", "").strip()
    if not term:
        return Q()
    q = lower_prefix_q(["ipn", "name"], term)
    if connection.vendor != "postgresql":
        return q
    return part_ids_q(*Part.objects.filter(q).order_by().values("pk").query.sql_with_params())


def part_ids_q(sql: str, params) -> Q:
    """Parts whose id is among those ``sql`` selects.

    PostgreSQL: ``id = ANY(ARRAY(sql))``, so the ids are collected once from the search
    indexes and the rows fetched by primary key. With ``id IN (sql)`` plus the list's ``ORDER
    BY name LIMIT n`` it either walked the name-order index testing every row (the matches of
    a word are contiguous in name order, so "Label" read 41,000 rows) or hashed a scan of the
    whole table; it cannot know how the matches are spread."""
    if connection.vendor == "postgresql":
        # "<pk> = ANY(ARRAY(<sql>))": RawSQL brings the parentheses; F("pk") is relabelled
        # when the queryset becomes a subquery (part__in=...), the ids' SELECT is self-contained
        return Q(
            Func(
                F("pk"),
                RawSQL(sql, list(params)),
                arg_joiner=" = ANY(ARRAY",
                template="%(expressions)s)",
                output_field=BooleanField(),
            )
        )
    return Q(pk__in=RawSQL(sql, list(params)))
