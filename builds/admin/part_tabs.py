"""Build tabs of the part page (admin_customisations/tabs.py): the build orders of an
assembly, the builds holding a part's stock, and where the part is used."""

from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Concat

from admin_customisations.tabs import Link, Table
from builds.admin.bom_part import where_used_url
from builds.models import BomItem, BuildItem, BuildOrder
from builds.selectors import template_ancestors, where_used
from inventory.services.common import fmt


def _build_rows(part):
    return BuildOrder.objects.filter(part=part).order_by("-pk")


BUILD_TABLE = Table(
    key="builds",
    title="Build orders",
    model=BuildOrder,
    rows=_build_rows,
    columns=[
        ("Build", lambda build: Link(build, build.reference)),
        ("Title", lambda build: build.title),
        ("Status", lambda build: build.get_status_display()),
        ("Quantity", lambda build: build.quantity),
        ("Completed", lambda build: build.completed),
        ("Target date", lambda build: build.target_date),
    ],
    empty="No build orders for this part.",
)


def _build_allocation_rows(part):
    from inventory.allocations import allocation_source

    source = allocation_source("builds.BuildItem")
    return (
        source.rows()
        .filter(stock_item__part=part)
        .select_related("build_line__build", "stock_item__part", "stock_item__location")
        .order_by("-pk")
    )


BUILD_ALLOCATION_TABLE = Table(
    key="build-allocations",
    title="Held by builds",
    model=BuildItem,
    rows=_build_allocation_rows,
    columns=[
        ("Build", lambda row: Link(row.build_line.build, row.build_line.build.reference)),
        ("Stock item", lambda row: Link(row.stock_item, f"#{row.stock_item.pk}")),
        (
            "Location",
            lambda row: row.stock_item.location.pathstring if row.stock_item.location_id else None,
        ),
        ("Quantity", lambda row: fmt(row.quantity)),
    ],
    empty="No build holds this part's stock.",
)


def _where_used_rows(part):
    templates = template_ancestors([part])[part.pk]
    return where_used(part).annotate(
        how=Case(
            When(sub_part=part, then=Value("")),
            When(
                sub_part_id__in=templates,
                then=Concat(Value("as a variant of "), "sub_part__name"),
            ),
            default=Concat(Value("as a substitute for "), "sub_part__name"),
            output_field=CharField(),
        )
    )


WHERE_USED_TABLE = Table(
    key="used-in",
    title="BOM lines using this part",
    model=BomItem,
    rows=_where_used_rows,
    columns=[
        ("Assembly", lambda line: Link(line.part, str(line.part))),
        ("Quantity", lambda line: fmt(line.quantity)),
        ("How", lambda line: line.how or "directly"),
        ("Also for variants", lambda line: "yes" if line.inherited else ""),
        ("Reference", lambda line: line.reference),
    ],
    empty="Not used in any BOM.",
    more=lambda part: ("Show in the BOM list", where_used_url(part)),
)
