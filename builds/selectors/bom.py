"""BOM reads: lines (with inherited ones), checksum, explosion, can-build, allocation helpers.

Every function here runs a bounded number of queries whatever the size of the BOM:
BOMs are walked level by level, with one query per level for all the assemblies
on that level (never one per line), and figures for many parts come from one
aggregate query each.

Vocabulary: a part's *BOM lines* are its own lines plus the ``inherited`` lines of
the templates it is a variant of (R18). The *valid parts* of a line are the parts
whose stock can be used for it: the component, its substitutes and, when the line
allows variants, the component's variants — only those with the component's
``trackable`` flag (R13).
"""

import gc
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from django.db.models import Q, Sum

from builds.models import BomItem, BomItemSubstitute
from builds.models.bom import parse_overage
from builds.selectors.bom_graph import (
    find_bom_recursion,
    id_chunks,
    ids_with_parents,
    template_ancestors,
    variant_descendants,
    variant_ids,
    where_used,
)
from inventory.allocations import allocated_by_part
from inventory.models import Part, StockItem

STEP = Decimal("0.00001")  # quantity columns have 5 decimal places
ZERO = Decimal(0)
HUNDRED = Decimal(100)

__all__ = [
    "BomLine",
    "BomOverview",
    "Explosion",
    "ExplodedRow",
    "LeafTotal",
    "PartRef",
    "allocated_quantities",
    "available_quantities",
    "bom_checksum",
    "bom_checksums",
    "bom_lines",
    "bom_overview",
    "can_build",
    "can_build_many",
    "explode_bom",
    "find_bom_recursion",
    "is_bom_valid",
    "overage_quantity",
    "required_quantity",
    "template_ancestors",
    "valid_allocation_part_ids",
    "valid_allocation_part_ids_many",
    "variant_ids",
    "where_used",
]

# ---------------------------------------------------------------------------
# BOM lines


def bom_lines(part):
    """The part's BOM: its own lines plus the ``inherited`` lines of its templates (R18)."""
    templates = template_ancestors([part])[part.pk]
    return (
        BomItem.objects.filter(Q(part=part) | Q(part_id__in=templates, inherited=True))
        .select_related("part", "sub_part")
        .order_by("sub_part__name", "pk")
    )


def _load_lines(ids, known_parents, fetch, parts: dict, fetch_parts) -> dict[int, list]:
    """Each assembly's BOM lines (its own, then its templates' ``inherited`` ones), sorted by
    component name and line id, the one order every BOM read shows; ``parts`` gains every
    part those lines name.

    ``fetch(ids, inherited_only)`` runs one query for the lines of ``ids`` and yields
    (line id, assembly id, component id, inherited, line); ``fetch_parts(ids)`` one query
    yielding (part id, name, part). Queries: the assemblies' lines, their templates' lines
    (only when they have templates), and the parts not in ``parts`` yet.
    """
    ancestors = template_ancestors(ids, known_parents=known_parents)
    templates = {t for chain in ancestors.values() for t in chain}
    queries = [(chunk, False) for chunk in id_chunks(ids)]
    queries += [(chunk, True) for chunk in id_chunks(templates - set(ids))]
    loaded: dict[int, tuple] = {}
    for chunk, inherited_only in queries:
        for row in fetch(chunk, inherited_only):
            loaded.setdefault(row[0], row)
    missing = {pk for _, assembly, sub, _, _ in loaded.values() for pk in (assembly, sub)}
    missing -= set(parts)
    for chunk in id_chunks(missing):  # (not in_bulk: it splits lists into 999s on SQLite)
        parts.update((pk, (name, part)) for pk, name, part in fetch_parts(chunk))
    by_part: dict[int, list[tuple]] = defaultdict(list)
    for pk, assembly, sub, inherited, line in loaded.values():
        by_part[assembly].append((parts[sub][0], pk, inherited, line))
    result = {}
    for pk in ids:
        own = list(by_part.get(pk, ()))
        for template in ancestors[pk]:
            own.extend(row for row in by_part.get(template, ()) if row[2])
        own.sort(key=lambda row: row[:2])
        result[pk] = [row[3] for row in own]
    return result


def _effective_lines(parts) -> dict[int, list[BomItem]]:
    """BOM lines (model instances) of many assemblies (instances or ids), with ``part`` and
    ``sub_part`` attached, each part loaded once however many lines use it."""
    ids, known = ids_with_parents(parts)
    cache = {p.pk: (p.name, p) for p in parts if isinstance(p, Part)}

    def fetch(chunk, inherited_only):
        lines = BomItem.objects.order_by().filter(part_id__in=chunk)
        if inherited_only:
            lines = lines.filter(inherited=True)
        return ((line.pk, line.part_id, line.sub_part_id, line.inherited, line) for line in lines)

    def fetch_parts(chunk):
        return ((p.pk, p.name, p) for p in Part.objects.order_by().filter(pk__in=chunk))

    result = _load_lines(ids, known, fetch, cache, fetch_parts)
    for lines in result.values():
        for line in lines:
            line.part = cache[line.part_id][1]
            line.sub_part = cache[line.sub_part_id][1]
    return result


class BomLine(NamedTuple):
    """A BOM line as an explosion row carries it: values, not a model instance."""

    pk: int
    part_id: int
    sub_part_id: int
    quantity: Decimal
    reference: str
    overage: str
    optional: bool
    consumable: bool
    allow_variants: bool
    inherited: bool


class PartRef(NamedTuple):
    """A part as an explosion row carries it: what the walk reads and what a row shows."""

    pk: int
    name: str
    ipn: str
    revision: str
    assembly: bool
    variant_of_id: int | None

    @classmethod
    def of(cls, part: Part) -> "PartRef":
        return cls(*(getattr(part, name) for name in cls._fields))

    @property
    def id(self) -> int:
        return self.pk

    def __str__(self) -> str:
        return Part.__str__(self)  # the one definition of how a part is named


_LINE_FIELDS = BomLine._fields
_PART_FIELDS = PartRef._fields
_INHERITED = _LINE_FIELDS.index("inherited")
_ASSEMBLY, _VARIANT_OF = _PART_FIELDS.index("assembly"), _PART_FIELDS.index("variant_of_id")


def _value_lines(ids, parts: dict[int, tuple]) -> dict[int, list[tuple]]:
    """``_effective_lines`` as plain tuples: each line in ``BomLine`` field order; the parts
    the lines use are added to ``parts`` as id -> (name, tuple in ``PartRef`` field order).
    Queries: the lines, then the parts they use not in ``parts`` yet (not one query joining
    the two: PostgreSQL answered that with a hash join over every part, 70 ms instead of
    25), and, only for variants, their templates (``template_ancestors``) and the
    templates' inherited lines.

    Plain tuples, neither model instances nor named tuples: a deep BOM has thousands, alive
    until the page is built, and the garbage collector stops tracking a plain tuple of
    plain values the first time it sees one, where it scans instances and named tuples at
    every collection for as long as they live.
    """
    known = {pk: parts[pk][1][_VARIANT_OF] for pk in ids if pk in parts}

    def fetch(chunk, inherited_only):
        lines = BomItem.objects.order_by().filter(part_id__in=chunk)
        if inherited_only:
            lines = lines.filter(inherited=True)
        # (the first three fields are pk, part_id, sub_part_id)
        found = lines.values_list(*_LINE_FIELDS)
        return ((line[0], line[1], line[2], line[_INHERITED], line) for line in found)

    def fetch_parts(chunk):
        found = Part.objects.order_by().filter(pk__in=chunk).values_list(*_PART_FIELDS)
        return ((part[0], part[1], part) for part in found)

    return _load_lines(ids, known, fetch, parts, fetch_parts)


# ---------------------------------------------------------------------------
# Validation checksum (R14)


def _checksum(part_id: int, lines: list[BomItem]) -> str:
    digest = hashlib.md5(str(part_id).encode())
    for line_hash in sorted(line.line_hash() for line in lines):
        digest.update(line_hash.encode())
    return digest.hexdigest()


def bom_checksums(parts) -> dict[int, str]:
    """Checksum of each part's BOM (own and inherited lines), for many parts at once."""
    return {pk: _checksum(pk, lines) for pk, lines in _effective_lines(parts).items()}


def bom_checksum(part) -> str:
    """MD5 seeded with the part id over every line's key-field hash, in a fixed order."""
    return bom_checksums([part])[part.pk]


def is_bom_valid(part) -> bool:
    """Whether the BOM is as it was when last validated (a part with no BOM lines is valid)."""
    lines = _effective_lines([part])[part.pk]
    return not lines or part.bom_checksum == _checksum(part.pk, lines)


@dataclass(frozen=True)
class BomOverview:
    """What the part list and the part page show about an assembly's BOM."""

    lines: int
    is_valid: bool
    can_build: int


def bom_overview(parts) -> dict[int, BomOverview]:
    """Line count, validation state and can-build of many assemblies (Part instances with
    ``bom_checksum`` loaded), in a fixed number of queries."""
    parts = list(parts)
    lines = _effective_lines(parts)
    builds = _can_build_from_lines(lines)
    return {
        part.pk: BomOverview(
            lines=len(lines[part.pk]),
            is_valid=not lines[part.pk] or part.bom_checksum == _checksum(part.pk, lines[part.pk]),
            can_build=builds[part.pk],
        )
        for part in parts
    }


# ---------------------------------------------------------------------------
# Required quantities (R16)


def _overage_rule(overage: str) -> tuple[str, Decimal] | None:
    """``overage`` parsed for required quantities: None (blank, or text that is not an
    overage), ("absolute", extra) or ("percent", percentage clamped to 0–100)."""
    try:
        parsed = parse_overage(overage)
    except ValueError:
        return None
    if parsed is None:
        return None
    kind, value = parsed
    if kind == "percent":
        value = min(max(value, ZERO), HUNDRED)
    return kind, value


def _required(quantity: Decimal, rule, build_quantity: Decimal) -> Decimal:
    """``required_quantity`` from a line's quantity and parsed overage (``_overage_rule``)."""
    base = quantity * build_quantity
    if rule is not None:
        kind, value = rule
        base += value if kind == "absolute" else base * value / HUNDRED
    return base.quantize(STEP, rounding=ROUND_CEILING)


def overage_quantity(overage: str, base: Decimal) -> Decimal:
    """The extra on top of ``base``: an absolute overage once, or a percentage of ``base``
    clamped to 0–100 %. Text that is not an overage counts as none."""
    rule = _overage_rule(overage)
    if rule is None:
        return ZERO
    kind, value = rule
    return value if kind == "absolute" else base * value / HUNDRED


def required_quantity(bom_item, build_quantity) -> Decimal:
    """What building ``build_quantity`` assemblies needs of this line: line quantity ×
    build quantity, plus the overage, rounded up to the 5 decimal places stock has."""
    return _required(
        bom_item.quantity, _overage_rule(bom_item.overage), Decimal(str(build_quantity))
    )


# ---------------------------------------------------------------------------
# Stock figures


def allocated_quantities(part_ids) -> dict[int, Decimal]:
    """In-stock quantity of each part allocated to active builds and open sales orders
    (counted by inventory.allocations, the one place that knows every kind of allocation)."""
    totals: dict[int, Decimal] = {}
    for chunk in id_chunks(part_ids):
        totals.update(allocated_by_part(chunk))
    return totals


def available_quantities(part_ids) -> dict[int, Decimal]:
    """In stock minus allocated, per part (never below zero); two queries."""
    part_ids = list(dict.fromkeys(part_ids))
    in_stock: dict[int, Decimal] = {}
    for chunk in id_chunks(part_ids):
        in_stock.update(
            StockItem.objects.in_stock()
            .filter(part_id__in=chunk)
            .order_by()
            .values_list("part_id")
            .annotate(total=Sum("quantity"))
        )
    allocated = allocated_quantities([pk for pk in part_ids if in_stock.get(pk)])
    return {pk: max(in_stock.get(pk, ZERO) - allocated.get(pk, ZERO), ZERO) for pk in part_ids}


# ---------------------------------------------------------------------------
# Valid parts for allocation (R13)


def valid_allocation_part_ids_many(bom_items) -> dict[int, set[int]]:
    """For each BOM line: ids of the parts whose stock may be allocated to it (R13)."""
    bom_items = list(bom_items)
    substitutes: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for chunk in id_chunks(item.pk for item in bom_items):
        rows = (
            BomItemSubstitute.objects.filter(bom_item_id__in=chunk)
            .values_list("bom_item_id", "part_id", "part__trackable")
            .order_by()
        )
        for bom_item_id, part_id, trackable in rows:
            substitutes[bom_item_id].append((part_id, trackable))
    variants = variant_descendants({item.sub_part_id for item in bom_items if item.allow_variants})
    result = {}
    for item in bom_items:
        trackable = item.sub_part.trackable
        candidates = substitutes.get(item.pk, []) + (
            variants.get(item.sub_part_id, []) if item.allow_variants else []
        )
        result[item.pk] = {item.sub_part_id} | {pk for pk, flag in candidates if flag == trackable}
    return result


def valid_allocation_part_ids(bom_item) -> set[int]:
    """Ids of the parts whose stock may be allocated to this BOM line: the component, its
    substitutes and (with ``allow_variants``) its variants, same ``trackable`` flag (R13)."""
    return valid_allocation_part_ids_many([bom_item])[bom_item.pk]


# ---------------------------------------------------------------------------
# Can build (R17)


def _can_build_from_lines(lines_by_part: dict[int, list[BomItem]]) -> dict[int, int]:
    counted = {
        pk: [line for line in lines if not line.consumable and line.quantity > 0]
        for pk, lines in lines_by_part.items()
    }
    unique = {line.pk: line for lines in counted.values() for line in lines}
    pools = valid_allocation_part_ids_many(unique.values())
    available = available_quantities({pk for pool in pools.values() for pk in pool})
    result = {}
    for pk, lines in counted.items():
        # lines drawing on the same stock (duplicate lines, R19) share it
        demand: dict[frozenset, Decimal] = defaultdict(lambda: ZERO)
        for line in lines:
            demand[frozenset(pools[line.pk])] += line.quantity
        result[pk] = min(
            (int(sum(available[p] for p in pool) // quantity) for pool, quantity in demand.items()),
            default=0,
        )
    return result


def can_build_many(parts) -> dict[int, int]:
    """How many of each assembly the available stock supports (see ``can_build``), for many
    parts (instances or ids) in a fixed number of queries."""
    return _can_build_from_lines(_effective_lines(parts))


def can_build(part) -> int:
    """The largest whole number of the assembly that the available stock supports (R17).

    Per BOM line (own and inherited; consumable lines ignored): available stock of its
    valid parts (in stock minus build and sales-order allocations) ÷ line quantity,
    rounded down; the smallest over all lines. Lines using the same stock share it.
    One level deep: sub-assemblies count with their own stock. 0 without a BOM.
    """
    return can_build_many([part])[part.pk]


# ---------------------------------------------------------------------------
# Explosion


class ExplodedRow(NamedTuple):
    """One BOM line at its place in the multi-level tree."""

    level: int  # 1 = a line of the exploded assembly itself
    path: tuple[PartRef, ...]  # parts from the exploded assembly down to this row's part
    bom_item: BomLine
    part: PartRef
    quantity_per: Decimal  # per one of the assembly directly above
    quantity: Decimal  # for the whole explosion, overages included
    optional: bool  # this line or a line above it is optional
    consumable: bool  # this line or a line above it is consumable
    expanded: bool  # its own BOM rows follow
    recursive: bool = False  # the part is already above itself (bad data): not expanded
    inherited_from: PartRef | None = None  # the template the line is inherited from

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.path)


@dataclass
class LeafTotal:
    """A part at the bottom of the tree, rolled up over every place it is used."""

    part: PartRef
    quantity: Decimal
    optional: bool
    consumable: bool
    lines: int = 1


class BuiltOnRead(Sequence):
    """A read-only list kept as compact tuples, each turned into its object when read:
    a deep explosion has thousands of rows, a page shows a few hundred."""

    __slots__ = ("_items", "_build")

    def __init__(self, items: list, build):
        self._items, self._build = items, build

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._build(item) for item in self._items[index]]
        return self._build(self._items[index])

    def __repr__(self) -> str:
        return f"<{len(self)} {type(self).__name__} items>"


@dataclass
class Explosion:
    part: Part
    quantity: Decimal
    rows: Sequence[ExplodedRow] = ()
    leaves: Sequence[LeafTotal] = ()
    depth: int = 0  # the deepest row's level


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector (reference counting still frees everything at once).

    An explosion makes tens of thousands of short-lived objects and no cycles: Django alone
    compiles each ``IN`` list of thousands of ids into two objects per id. With the
    collector running, enough of them were alive at its collections to be promoted to the
    oldest generation, which set off a full collection of the whole process (~150 ms) on
    every other deep BOM page. The collector runs again as soon as the walk is done. (The
    switch is process-wide: other threads' collections wait for the walk too, ~0.1 s.)
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _explode(part, quantity: Decimal, max_depth: int):
    """The explosion's loading and walk, as plain tuples (see ``explode_bom``)."""
    root = tuple(getattr(part, name) for name in _PART_FIELDS)
    parts: dict[int, tuple] = {part.pk: (part.name, root)}
    lines_of: dict[int, list[tuple]] = {}
    frontier = [part.pk]
    while frontier:
        loaded = _value_lines(frontier, parts)
        lines_of.update(loaded)
        following = {
            line[2]: None
            for lines in loaded.values()
            for line in lines
            if parts[line[2]][1][_ASSEMBLY] and line[2] not in lines_of
        }
        frontier = list(following)

    # One plain tuple per row: (line, quantity, optional, consumable, expanded, recursive,
    # ids of the parts from the exploded assembly down to the row's part).
    rows: list[tuple] = []
    leaf_quantity: dict[tuple, Decimal] = {}  # (part id, consumable, optional) -> quantity
    leaf_lines: dict[tuple, int] = {}
    rules: dict[str, tuple | None] = {}  # parsed overages (a BOM has few distinct ones)
    stack = [(line, quantity, (part.pk,), False, False) for line in reversed(lines_of[part.pk])]
    depth = 0
    while stack:
        line, above, path, optional, consumable = stack.pop()
        _, _, sub, per, _, overage, line_optional, line_consumable, _, _ = line
        if overage not in rules:
            rules[overage] = _overage_rule(overage)
        needed = _required(per, rules[overage], above)
        optional = optional or line_optional
        consumable = consumable or line_consumable
        recursive = sub in path
        children = lines_of.get(sub)
        level = len(path)
        expanded = bool(children) and not recursive and level <= max_depth
        row_path = (*path, sub)
        rows.append((line, needed, optional, consumable, expanded, recursive, row_path))
        depth = max(depth, level)
        if expanded:
            stack.extend(
                (child, needed, row_path, optional, consumable) for child in reversed(children)
            )
        elif not recursive:
            key = (sub, consumable, optional)
            if key in leaf_quantity:
                leaf_quantity[key] += needed
                leaf_lines[key] += 1
            else:
                leaf_quantity[key] = needed
                leaf_lines[key] = 1
    leaves = sorted(leaf_quantity, key=lambda key: (parts[key[0]][0], *key))  # name, id, ...
    return parts, rows, leaves, leaf_quantity, leaf_lines, depth


def explode_bom(part, quantity=1, *, max_depth: int = 100) -> Explosion:
    """The multi-level BOM of ``quantity`` × ``part``.

    Rows come in tree order (each sub-assembly followed by its own lines); every row's
    quantity is ``required_quantity`` of its line for the quantity of the assembly above
    it, so overages apply at every level. Leaves (parts without a BOM) are rolled up per
    part, separately for optional and consumable uses. Queries: two per BOM level (its
    lines, the parts they use), more only for variants (see ``_value_lines``).

    Rows and leaves are read-only sequences whose items (``ExplodedRow``, ``LeafTotal``,
    with the lines and parts as ``BomLine`` / ``PartRef`` values) are made when read: the
    walk itself keeps one plain tuple per row (see ``_value_lines``).
    """
    quantity = Decimal(str(quantity))
    with _collector_paused():
        parts, rows, leaves, leaf_quantity, leaf_lines, depth = _explode(part, quantity, max_depth)

    refs: dict[int, PartRef] = {}

    def ref(pk: int) -> PartRef:
        if pk not in refs:
            refs[pk] = PartRef._make(parts[pk][1])
        return refs[pk]

    def exploded_row(row: tuple) -> ExplodedRow:
        line, needed, optional, consumable, expanded, recursive, path = row
        line = BomLine._make(line)
        return ExplodedRow(
            level=len(path) - 1,
            path=tuple(ref(pk) for pk in path),
            bom_item=line,
            part=ref(path[-1]),
            quantity_per=line.quantity,
            quantity=needed,
            optional=optional,
            consumable=consumable,
            expanded=expanded,
            recursive=recursive,
            inherited_from=None if line.part_id == path[-2] else ref(line.part_id),
        )

    def leaf_total(key: tuple) -> LeafTotal:
        pk, consumable, optional = key
        return LeafTotal(ref(pk), leaf_quantity[key], optional, consumable, lines=leaf_lines[key])

    return Explosion(
        part=part,
        quantity=quantity,
        rows=BuiltOnRead(rows, exploded_row),
        leaves=BuiltOnRead(leaves, leaf_total),
        depth=depth,
    )
