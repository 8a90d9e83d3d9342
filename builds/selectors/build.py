"""Read-side helpers for build orders: annotated lists and the change page's tables.

Every figure is an annotation or one grouped query for all rows (no per-row queries).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from builds.choices import ACTIVE_BUILD_STATUSES
from builds.models import BuildItem, BuildLine, BuildOrder
from builds.selectors.bom import valid_allocation_part_ids_many
from inventory.allocations import item_allocated_expression
from inventory.models import StockItem

__all__ = [
    "LineRow",
    "build_allocations",
    "build_line_rows",
    "build_outputs",
    "builds_with_progress",
    "free_stock_by_part",
    "lines_with_allocated",
    "overdue_expression",
]

ZERO = Decimal(0)
QUANTITY = DecimalField(max_digits=20, decimal_places=5)


def _sum(queryset, field, group) -> Coalesce:
    subquery = queryset.order_by().values(group).annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(Subquery(subquery, output_field=QUANTITY), Value(ZERO), output_field=QUANTITY)


def overdue_expression(today=None):
    """Active, with a target date today or earlier (BuildOrderQuerySet.overdue as a column)."""
    return ExpressionWrapper(
        Q(status__in=ACTIVE_BUILD_STATUSES)
        & Q(target_date__isnull=False)
        & Q(target_date__lte=today or timezone.localdate()),
        output_field=BooleanField(),
    )


def builds_with_progress(queryset=None, today=None):
    """Build orders annotated with ``progress`` (completed / quantity, whole percent,
    at most 100), ``overdue`` (bool) and ``in_production`` (quantity of outputs still
    being built)."""
    queryset = BuildOrder.objects.all() if queryset is None else queryset
    outputs = StockItem.objects.filter(build=OuterRef("pk"), is_building=True)
    return queryset.annotate(
        progress=Case(
            When(quantity__gt=0, then=Least(F("completed") * 100 / F("quantity"), Value(100))),
            default=Value(0),
            output_field=IntegerField(),
        ),
        overdue=overdue_expression(today),
        in_production=_sum(outputs, "quantity", "build"),
    )


def lines_with_allocated(queryset=None):
    """Build lines annotated with ``allocated`` (sum of their allocations)."""
    queryset = BuildLine.objects.all() if queryset is None else queryset
    return queryset.annotate(
        allocated=_sum(
            BuildItem.objects.filter(build_line=OuterRef("pk")), "quantity", "build_line"
        )
    )


def free_stock_by_part(part_ids, take_from=None) -> dict[int, Decimal]:
    """In-stock quantity not held by any allocation (builds, sales orders), per part,
    within ``take_from`` and below when given. One query."""
    items = StockItem.objects.in_stock().filter(part_id__in=list(part_ids))
    if take_from is not None:
        items = items.in_location_subtree(take_from)
    free: dict[int, Decimal] = {}
    for part_id, quantity, allocated in items.annotate(
        allocated=item_allocated_expression()
    ).values_list("part_id", "quantity", "allocated"):
        free[part_id] = free.get(part_id, ZERO) + quantity - allocated
    return free


@dataclass
class LineRow:
    line: BuildLine
    required: Decimal
    allocated: Decimal
    consumed: Decimal
    available: Decimal

    @property
    def outstanding(self) -> Decimal:
        return max(self.required - self.consumed - self.allocated, ZERO)

    @property
    def fully_allocated(self) -> bool:
        return self.allocated + self.consumed >= self.required


def build_line_rows(build) -> list[LineRow]:
    """The build's lines with required / allocated / consumed / available quantities.

    *Available* is in-stock stock of the parts valid for the line, in the build's source
    location (and below), minus what is allocated anywhere.
    """
    lines = list(
        lines_with_allocated(build.lines.all())
        .select_related("bom_item__sub_part")
        .order_by("bom_item__sub_part__name", "pk")
    )
    valid = valid_allocation_part_ids_many([line.bom_item for line in lines])
    all_ids = set().union(*valid.values()) if valid else set()
    free = free_stock_by_part(all_ids, build.take_from if build.take_from_id else None)
    return [
        LineRow(
            line=line,
            required=line.quantity,
            allocated=line.allocated,
            consumed=line.consumed,
            available=sum((free.get(pk, ZERO) for pk in valid[line.bom_item_id]), ZERO),
        )
        for line in lines
    ]


def build_allocations(build):
    """The build's allocations with everything the change page shows, in one query."""
    return (
        BuildItem.objects.filter(build_line__build=build)
        .select_related(
            "build_line__bom_item__sub_part",
            "stock_item__part",
            "stock_item__location",
            "install_into",
        )
        .order_by("build_line__bom_item__sub_part__name", "pk")
    )


def build_outputs(build):
    """The build's outputs (in production first, then finished), in one query."""
    return (
        StockItem.objects.filter(build=build)
        .select_related("location", "part")
        .order_by("-is_building", "serial_int", "pk")
    )
