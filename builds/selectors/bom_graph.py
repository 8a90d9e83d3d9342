"""BOM graph reads: variant families, the recursion search and where-used.

The building blocks of ``builds.selectors.bom`` (which re-exports the public names).
Each walks the graph level by level with one query per level, never one per line.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from builds.models import BomItem, BomItemSubstitute
from inventory.models import Part

__all__ = [
    "find_bom_recursion",
    "id_chunks",
    "ids_with_parents",
    "template_ancestors",
    "variant_descendants",
    "variant_ids",
    "where_used",
]

# ids per ``__in`` list. Below every database's parameter limit (SQLite ≥ 3.32: 32,766;
# the union in _edges_from uses four lists), and far above what one BOM level holds, so
# the query counts stay the same whatever the size of the BOM.
CHUNK = 5000
EDGE_CHUNK = 2000


def id_chunks(ids: Iterable[int], size: int = CHUNK):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def ids_with_parents(parts) -> tuple[list[int], dict[int, int | None]]:
    """Part ids in order, and the ``variant_of`` already known from Part instances."""
    ids, known = [], {}
    for part in parts:
        if isinstance(part, Part):
            ids.append(part.pk)
            known[part.pk] = part.variant_of_id
        else:
            ids.append(int(part))
    return list(dict.fromkeys(ids)), known


# ---------------------------------------------------------------------------
# Variant families


def template_ancestors(parts, known_parents=None) -> dict[int, list[int]]:
    """For each part (instance or id): the templates above it, nearest first.

    One query per level of the variant tree, for all parts at once (none when the
    parts are instances without ``variant_of``).
    """
    ids, known = ids_with_parents(parts)
    parent_of: dict[int, int | None] = {**known, **(known_parents or {})}
    todo = {pk for pk in ids if pk not in parent_of}
    todo |= {p for p in parent_of.values() if p is not None and p not in parent_of}
    while todo:
        for chunk in id_chunks(todo):
            parent_of.update(
                Part.objects.filter(pk__in=chunk).values_list("pk", "variant_of_id").order_by()
            )
        for pk in todo:
            parent_of.setdefault(pk, None)
        todo = {p for p in parent_of.values() if p is not None and p not in parent_of}
    result = {}
    for pk in ids:
        chain, seen, current = [], {pk}, parent_of.get(pk)
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = parent_of.get(current)
        result[pk] = chain
    return result


def variant_descendants(root_ids) -> dict[int, list[tuple[int, bool]]]:
    """For each root part id: (id, trackable) of every variant below it, at any depth."""
    children: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    seen, frontier = set(root_ids), set(root_ids)
    while frontier:
        found = set()
        for chunk in id_chunks(frontier):
            rows = (
                Part.objects.filter(variant_of_id__in=chunk)
                .values_list("pk", "variant_of_id", "trackable")
                .order_by()
            )
            for pk, parent, trackable in rows:
                children[parent].append((pk, trackable))
                if pk not in seen:
                    seen.add(pk)
                    found.add(pk)
        frontier = found
    result = {}
    for root in root_ids:
        below, stack, visited = [], list(children.get(root, ())), {root}
        while stack:
            pk, trackable = stack.pop()
            if pk in visited:
                continue
            visited.add(pk)
            below.append((pk, trackable))
            stack.extend(children.get(pk, ()))
        result[root] = below
    return result


def variant_ids(*parts) -> list[int]:
    """Ids of every variant below the given parts (instances or ids), at any depth."""
    ids, _ = ids_with_parents(parts)
    below = variant_descendants(ids)
    return sorted({pk for rows in below.values() for pk, _ in rows})


# ---------------------------------------------------------------------------
# Recursion (R11) and where used


def _edges_from(frontier) -> list[tuple[int, int]]:
    """(from, to) for every edge leaving ``frontier``: BOM lines, substitutes, and variant
    links both ways (a variant family counts as one part). One query (per 2,000 parts)."""
    edges = []
    for chunk in id_chunks(frontier, EDGE_CHUNK):
        lines = BomItem.objects.filter(part_id__in=chunk).values_list("part_id", "sub_part_id")
        substitutes = BomItemSubstitute.objects.filter(bom_item__part_id__in=chunk).values_list(
            "bom_item__part_id", "part_id"
        )
        templates = Part.objects.filter(pk__in=chunk, variant_of__isnull=False).values_list(
            "pk", "variant_of_id"
        )
        variants = Part.objects.filter(variant_of_id__in=chunk).values_list("variant_of_id", "pk")
        edges.extend(
            lines.order_by().union(
                substitutes.order_by(), templates.order_by(), variants.order_by(), all=True
            )
        )
    return edges


def find_bom_recursion(assembly_id: int, sub_part_ids) -> list[int] | None:
    """If using any of ``sub_part_ids`` in ``assembly_id``'s BOM would make a loop, the loop
    as part ids (assembly, sub-part, ..., assembly); else None.

    A breadth-first search from the sub-parts over BOM lines, substitutes and variant
    links, one query per level: the assembly must not be reachable.
    """
    starts = list(dict.fromkeys(sub_part_ids))
    if assembly_id in starts:
        return [assembly_id, assembly_id]
    came_from: dict[int, int | None] = dict.fromkeys(starts)
    frontier = set(starts)
    while frontier:
        following = set()
        for source, target in _edges_from(frontier):
            if target is None or target in came_from:
                continue
            came_from[target] = source
            if target == assembly_id:
                loop, node = [], target
                while node is not None:
                    loop.append(node)
                    node = came_from[node]
                return [assembly_id, *reversed(loop)]
            following.add(target)
        frontier = following
    return None


def where_used(part):
    """BOM lines that use ``part``: as their component, as a variant of a component that
    allows variants, or as a substitute. (Inherited lines also apply to the variants of
    their assembly.)"""
    templates = template_ancestors([part])[part.pk]
    # The substitutes' line ids as a list, not a subquery: "sub_part = x OR id IN (SELECT
    # …)" made PostgreSQL scan every BOM line (0.3–0.6 s at 100k parts); three indexed
    # conditions combine.
    substitute_lines = list(
        BomItemSubstitute.objects.filter(part=part).values_list("bom_item_id", flat=True)
    )
    return (
        BomItem.objects.filter(
            Q(sub_part=part)
            | Q(sub_part_id__in=templates, allow_variants=True)
            | Q(pk__in=substitute_lines)
        )
        .select_related("part", "sub_part")
        .order_by("part__name", "pk")
    )
