"""Read-side helpers: per-part figures and tree counts for lists, dashboards and exports.

Lists compute figures only for the rows on the page (``annotate_part_figures``,
``annotate_category_counts``, ``annotate_location_counts``): one grouped query per
figure for the page's ids, whatever the table size (docs/decisions.md, "Figures on big
lists"). ``parts_with_stock`` annotates a whole queryset in one query and is meant for
small querysets (one part, a test, a short export), never for a changelist.
"""

from decimal import Decimal

from django.apps import apps
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from inventory.allocations import allocated_by_part as part_allocated_by_id
from inventory.allocations import part_allocated_expression
from inventory.models import Part, PartCategory, StockItem, StockLocation
from inventory.search import prefix_q

QUANTITY = DecimalField(max_digits=20, decimal_places=5)


def _sum_quantity(items) -> Coalesce:
    subquery = items.order_by().values("part").annotate(total=Sum("quantity")).values("total")[:1]
    return Coalesce(
        Subquery(subquery, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


def allocated_quantity_expression():
    """In-stock quantity of the part allocated to builds and sales orders (see inventory.allocations)."""
    return part_allocated_expression()


def on_order_quantity_expression():
    """Quantity on open purchase orders not yet received, in part units (R50):
    Σ over lines of open orders with received < quantity of (quantity − received) × pack quantity.

    The orders app is reached through the app registry (inventory does not import it).
    """
    purchase_order = apps.get_model("orders", "PurchaseOrder")
    lines = apps.get_model("orders", "PurchaseOrderLine").objects.filter(
        supplier_part__part=OuterRef("pk"),
        order__status__in=purchase_order.OPEN_STATUSES,
        received__lt=F("quantity"),
    )
    outstanding_units = ExpressionWrapper(
        (F("quantity") - F("received")) * F("supplier_part__pack_quantity"), output_field=QUANTITY
    )
    subquery = (
        lines.order_by()
        .values("supplier_part__part")
        .annotate(total=Sum(outstanding_units))
        .values("total")[:1]
    )
    return Coalesce(
        Subquery(subquery, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


def parts_with_stock(queryset=None):
    """Parts annotated with ``in_stock``, ``allocated``, ``available``, ``on_order`` and ``low_stock``."""
    queryset = Part.objects.all() if queryset is None else queryset
    return queryset.annotate(
        in_stock=_sum_quantity(StockItem.objects.in_stock().filter(part=OuterRef("pk"))),
        allocated=allocated_quantity_expression(),
        on_order=on_order_quantity_expression(),
    ).annotate(
        available=ExpressionWrapper(F("in_stock") - F("allocated"), output_field=QUANTITY),
        low_stock=ExpressionWrapper(
            Q(minimum_stock__gt=0) & Q(in_stock__lt=F("minimum_stock")), output_field=BooleanField()
        ),
    )


# ---------------------------------------------------------------------------
# Figures for the rows on one page


ZERO = Decimal(0)


def on_order_by_part(part_ids) -> dict[int, Decimal]:
    """{part id: quantity on open purchase orders not yet received, in part units} (R50)."""
    part_ids = list(part_ids)
    if not part_ids:
        return {}
    purchase_order = apps.get_model("orders", "PurchaseOrder")
    lines = apps.get_model("orders", "PurchaseOrderLine").objects.filter(
        supplier_part__part_id__in=part_ids,
        order__status__in=purchase_order.OPEN_STATUSES,
        received__lt=F("quantity"),
    )
    outstanding_units = ExpressionWrapper(
        (F("quantity") - F("received")) * F("supplier_part__pack_quantity"), output_field=QUANTITY
    )
    return dict(
        lines.order_by()
        .values_list("supplier_part__part_id")
        .annotate(total=Sum(outstanding_units, output_field=QUANTITY))
    )


def annotate_part_figures(parts) -> None:
    """Set ``in_stock``, ``allocated``, ``available``, ``on_order`` and ``low_stock`` on the
    given Part instances (a page of a list): ``in_stock`` is the maintained
    ``in_stock_total`` (inventory.figures), the others one grouped query per figure (and per
    allocation source) for the page's ids, whatever the table size."""
    parts = list(parts)
    allocated = part_allocated_by_id([p.pk for p in parts if p.in_stock_total])
    on_order = on_order_by_part([p.pk for p in parts])
    for part in parts:
        part.in_stock = part.in_stock_total
        part.allocated = allocated.get(part.pk, ZERO)
        part.available = part.in_stock - part.allocated
        part.on_order = on_order.get(part.pk, ZERO)
        part.low_stock = part.minimum_stock > 0 and part.in_stock < part.minimum_stock


def has_stock_condition() -> Q:
    """Filter: the part has stock on hand (the maintained figure, indexed)."""
    return Q(in_stock_total__gt=0)


def low_stock_condition() -> Q:
    """Filter: a minimum stock is set and the stock on hand is below it (the same rule as
    ``parts_with_stock``'s ``low_stock``, on the maintained figure)."""
    return Q(minimum_stock__gt=0, in_stock_total__lt=F("minimum_stock"))


def _subtree_counts(nodes, tree_model, direct_counts=None, *, stored_field=None) -> None:
    """Set ``subtree_count`` and ``child_count`` on ``nodes``: one query for the nodes of their
    subtrees (tree_path prefix on its index, inventory.search), then the members stored
    directly in each, either read from that query (``stored_field``, a maintained counter)
    or from one grouped query ``direct_counts(ids)``."""
    nodes = list(nodes)
    if not nodes:
        return
    condition = Q()
    for node in nodes:
        condition |= prefix_q("tree_path", node.tree_path)
    below = tree_model.objects.filter(condition).order_by()
    if stored_field:
        rows = list(below.values_list("pk", "parent_id", "tree_path", stored_field))
        direct = {pk: stored for pk, _, _, stored in rows}
    else:
        rows = list(below.values_list("pk", "parent_id", "tree_path"))
        direct = direct_counts([row[0] for row in rows])
    children: dict[int, int] = {}
    for row in rows:
        children[row[1]] = children.get(row[1], 0) + 1
    for node in nodes:
        node.subtree_count = sum(
            direct.get(row[0], 0) for row in rows if row[2].startswith(node.tree_path)
        )
        node.child_count = children.get(node.pk, 0)


def _grouped_count(queryset, field: str, ids) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in range(0, len(ids), 500):
        counts.update(
            queryset.filter(**{f"{field}__in": ids[chunk : chunk + 500]})
            .order_by()
            .values_list(field)
            .annotate(n=Count("pk"))
        )
    return counts


def annotate_category_counts(categories) -> None:
    """Set ``part_count`` (parts in the whole subtree) and ``child_count`` on the categories."""
    categories = list(categories)
    _subtree_counts(
        categories, PartCategory, lambda ids: _grouped_count(Part.objects.all(), "category_id", ids)
    )
    for category in categories:
        category.part_count = category.subtree_count


def annotate_location_counts(locations) -> None:
    """Set ``item_count`` (stock items stored anywhere in the subtree, i.e. what the location
    filter of the stock list shows) and ``child_count`` on the locations: the maintained
    ``items_stored`` counters (inventory.figures) of the subtrees' locations summed, one
    query on the tree_path index; no stock item row is read."""
    locations = list(locations)
    _subtree_counts(locations, StockLocation, stored_field="items_stored")
    for location in locations:
        location.item_count = location.subtree_count


# ---------------------------------------------------------------------------
# What pickers offer (admin_customisations.pickers)


def placeable_locations(queryset=None):
    """Locations stock may be put into: not structural (the stock services and the build
    services refuse structural locations; their sub-locations hold the stock)."""
    queryset = StockLocation.objects.all() if queryset is None else queryset
    return queryset.filter(structural=False)


def part_ids_with_variants(part_ids) -> set[int]:
    """``part_ids`` and every variant below them, at any depth (one query per level)."""
    found, frontier = set(part_ids), set(part_ids)
    while frontier:
        frontier = (
            set(Part.objects.filter(variant_of_id__in=frontier).values_list("pk", flat=True))
            - found
        )
        found |= frontier
    return found


def allocatable_items(queryset, part_ids):
    """In-stock items of ``part_ids`` with unallocated quantity, annotated ``free`` (what no
    sales order or build holds yet). Served by the items' part index; the allocated sum is
    a subquery per candidate row, evaluated only up to the caller's LIMIT."""
    from inventory.allocations import item_allocated_expression

    return (
        queryset.in_stock()
        .filter(part_id__in=list(part_ids))
        .annotate(
            free=ExpressionWrapper(
                F("quantity") - item_allocated_expression(), output_field=QUANTITY
            )
        )
        .filter(free__gt=0)
    )


# ---------------------------------------------------------------- subscriptions


def ancestor_paths(tree_path: str) -> list[str]:
    """``/1/5/9/`` -> ``["/1/", "/1/5/", "/1/5/9/"]``: the category and its ancestors."""
    ids = [i for i in (tree_path or "").strip("/").split("/") if i]
    return ["/" + "/".join(ids[: n + 1]) + "/" for n in range(len(ids))]


def part_subscriber_ids(part) -> set[int]:
    """Users subscribed to ``part`` or to its category or any category above it (one query)."""
    from django.db.models import Q

    from inventory.models import PartSubscription

    paths = ancestor_paths(part.category.tree_path) if part.category_id else []
    return set(
        PartSubscription.objects.filter(Q(part=part) | Q(category__tree_path__in=paths))
        .values_list("user_id", flat=True)
        .distinct()
    )


class SubscriberMap:
    """Every subscription, loaded once, to resolve many parts' subscribers without a query
    per part: a part's subscribers are those of the part and of each of its category's
    ancestor paths (``ancestor_paths``)."""

    def __init__(self, user_ids=None):
        from inventory.models import PartSubscription

        subscriptions = PartSubscription.objects.values_list(
            "user_id", "part_id", "category__tree_path"
        )
        if user_ids is not None:
            subscriptions = subscriptions.filter(user_id__in=user_ids)
        self.by_part: dict[int, set[int]] = {}
        self.by_path: dict[str, set[int]] = {}
        for user_id, part_id, path in subscriptions.iterator(chunk_size=5000):
            if part_id:
                self.by_part.setdefault(part_id, set()).add(user_id)
            elif path:
                self.by_path.setdefault(path, set()).add(user_id)

    def __bool__(self) -> bool:
        return bool(self.by_part or self.by_path)

    def subscribers(self, part_id: int, category_path: str | None) -> set[int]:
        found = set(self.by_part.get(part_id, ()))
        for path in ancestor_paths(category_path or ""):
            found |= self.by_path.get(path, set())
        return found
