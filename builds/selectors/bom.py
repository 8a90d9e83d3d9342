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

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

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

__all__ = [
    "BomOverview",
    "Explosion",
    "ExplodedRow",
    "LeafTotal",
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

# What an explosion reads of its lines and parts (walking, quantities, flags, names).
LIGHT_LINE_FIELDS = (
    "part",
    "sub_part",
    "quantity",
    "reference",
    "overage",
    "optional",
    "consumable",
    "allow_variants",
    "inherited",
)
LIGHT_PART_FIELDS = ("name", "ipn", "revision", "assembly", "trackable", "variant_of")


def bom_lines(part):
    """The part's BOM: its own lines plus the ``inherited`` lines of its templates (R18)."""
    templates = template_ancestors([part])[part.pk]
    return (
        BomItem.objects.filter(Q(part=part) | Q(part_id__in=templates, inherited=True))
        .select_related("part", "sub_part")
        .order_by("sub_part__name", "pk")
    )


def _effective_lines(
    parts, cache: dict | None = None, *, light: bool = False
) -> dict[int, list[BomItem]]:
    """BOM lines of many assemblies, with ``part`` and ``sub_part`` attached.

    One query for their own lines, one for inherited lines of their templates (only when
    they have templates), one for the parts not in ``cache`` yet: each part is loaded once
    however many lines use it (``cache`` carries them from one BOM level to the next).
    ``light``: lines and parts carry only ``LIGHT_LINE_FIELDS`` / ``LIGHT_PART_FIELDS``
    (other fields load on access, one query each: for big explosions that only walk and
    show the tree).
    """
    ids, known = ids_with_parents(parts)
    cache = {} if cache is None else cache
    cache.update((p.pk, p) for p in parts if isinstance(p, Part) and p.pk not in cache)
    ancestors = template_ancestors(ids, known_parents=known)
    templates = {t for chain in ancestors.values() for t in chain}
    by_part: dict[int, list[BomItem]] = defaultdict(list)
    loaded: dict[int, BomItem] = {}
    queries = [(chunk, {}) for chunk in id_chunks(ids)]
    queries += [(chunk, {"inherited": True}) for chunk in id_chunks(templates - set(ids))]
    lines_qs, parts_qs = BomItem.objects.order_by(), Part.objects.order_by()
    if light:
        lines_qs, parts_qs = lines_qs.only(*LIGHT_LINE_FIELDS), parts_qs.only(*LIGHT_PART_FIELDS)
    for chunk, extra in queries:
        for line in lines_qs.filter(part_id__in=chunk, **extra):
            loaded.setdefault(line.pk, line)
    missing = {pk for line in loaded.values() for pk in (line.part_id, line.sub_part_id)}
    missing -= set(cache)
    for chunk in id_chunks(missing):  # (not in_bulk: it splits lists into 999s on SQLite)
        cache.update((p.pk, p) for p in parts_qs.filter(pk__in=chunk))
    for line in loaded.values():
        line.part = cache[line.part_id]
        line.sub_part = cache[line.sub_part_id]
        by_part[line.part_id].append(line)
    result = {}
    for pk in ids:
        lines = list(by_part.get(pk, ()))
        for template in ancestors[pk]:
            lines.extend(line for line in by_part.get(template, ()) if line.inherited)
        lines.sort(key=lambda line: (line.sub_part.name, line.pk))
        result[pk] = lines
    return result


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


def overage_quantity(overage: str, base: Decimal) -> Decimal:
    """The extra on top of ``base``: an absolute overage once, or a percentage of ``base``
    clamped to 0–100 %. Text that is not an overage counts as none."""
    try:
        parsed = parse_overage(overage)
    except ValueError:
        return ZERO
    if parsed is None:
        return ZERO
    kind, value = parsed
    if kind == "absolute":
        return value
    return base * min(max(value, ZERO), Decimal(100)) / Decimal(100)


def required_quantity(bom_item, build_quantity) -> Decimal:
    """What building ``build_quantity`` assemblies needs of this line: line quantity ×
    build quantity, plus the overage, rounded up to the 5 decimal places stock has."""
    base = bom_item.quantity * Decimal(str(build_quantity))
    total = base + overage_quantity(bom_item.overage, base)
    return total.quantize(STEP, rounding=ROUND_CEILING)


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


@dataclass(frozen=True)
class ExplodedRow:
    """One BOM line at its place in the multi-level tree."""

    level: int  # 1 = a line of the exploded assembly itself
    path: tuple  # parts from the exploded assembly down to this row's part
    bom_item: BomItem
    part: Part
    quantity_per: Decimal  # per one of the assembly directly above
    quantity: Decimal  # for the whole explosion, overages included
    optional: bool  # this line or a line above it is optional
    consumable: bool  # this line or a line above it is consumable
    expanded: bool  # its own BOM rows follow
    recursive: bool = False  # the part is already above itself (bad data): not expanded

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.path)

    @property
    def inherited_from(self):
        """The template this line is inherited from (None for the assembly's own line)."""
        parent = self.path[-2]
        return None if self.bom_item.part_id == parent.pk else self.bom_item.part


@dataclass
class LeafTotal:
    """A part at the bottom of the tree, rolled up over every place it is used."""

    part: Part
    quantity: Decimal
    optional: bool
    consumable: bool
    lines: int = 1


@dataclass
class Explosion:
    part: Part
    quantity: Decimal
    rows: list[ExplodedRow] = field(default_factory=list)
    leaves: list[LeafTotal] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return max((row.level for row in self.rows), default=0)


def explode_bom(part, quantity=1, *, max_depth: int = 100, light: bool = False) -> Explosion:
    """The multi-level BOM of ``quantity`` × ``part``.

    Rows come in tree order (each sub-assembly followed by its own lines); every row's
    quantity is ``required_quantity`` of its line for the quantity of the assembly above
    it, so overages apply at every level. Leaves (parts without a BOM) are rolled up per
    part, separately for optional and consumable uses. Queries: one or two per BOM level.
    ``light``: the rows' lines and parts carry only the fields an explosion reads (see
    ``_effective_lines``), a third of the time for thousands of rows.
    """
    quantity = Decimal(str(quantity))
    lines_of: dict[int, list[BomItem]] = {}
    cache: dict[int, Part] = {}
    frontier = [part]
    while frontier:
        loaded = _effective_lines(frontier, cache, light=light)
        lines_of.update(loaded)
        following = {}
        for lines in loaded.values():
            for line in lines:
                sub = line.sub_part
                if sub.assembly and sub.pk not in lines_of:
                    following[sub.pk] = sub
        frontier = list(following.values())

    explosion = Explosion(part=part, quantity=quantity)
    leaves: dict[tuple, LeafTotal] = {}
    root = (part,)
    stack = [
        (line, quantity, root, frozenset([part.pk]), False, False)
        for line in reversed(lines_of[part.pk])
    ]
    while stack:
        line, above, path, path_ids, optional, consumable = stack.pop()
        sub = line.sub_part
        needed = required_quantity(line, above)
        optional, consumable = optional or line.optional, consumable or line.consumable
        recursive = sub.pk in path_ids
        children = lines_of.get(sub.pk) or []
        expanded = bool(children) and not recursive and len(path) <= max_depth
        row_path = (*path, sub)
        explosion.rows.append(
            ExplodedRow(
                level=len(path),
                path=row_path,
                bom_item=line,
                part=sub,
                quantity_per=line.quantity,
                quantity=needed,
                optional=optional,
                consumable=consumable,
                expanded=expanded,
                recursive=recursive,
            )
        )
        if expanded:
            row_ids = path_ids | {sub.pk}
            stack.extend(
                (child, needed, row_path, row_ids, optional, consumable)
                for child in reversed(children)
            )
        elif not recursive:
            key = (sub.pk, consumable, optional)
            if key in leaves:
                leaves[key].quantity += needed
                leaves[key].lines += 1
            else:
                leaves[key] = LeafTotal(sub, needed, optional=optional, consumable=consumable)
    explosion.leaves = sorted(
        leaves.values(),
        key=lambda leaf: (leaf.part.name, leaf.part.pk, leaf.consumable, leaf.optional),
    )
    return explosion
