"""Build read side: list annotations (progress, overdue, in production) and the change
page's line figures (required / allocated / available), without per-row queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from builds.models import BuildOrder
from builds.selectors.build import (
    build_allocations,
    build_line_rows,
    build_outputs,
    builds_with_progress,
    free_stock_by_part,
)
from builds.services.build import (
    build_allocate,
    build_order_cancel,
    build_output_complete,
    build_output_create,
)
from tests.builds.test_build_support import D, shop_fixture, user_fixture  # noqa: F401
from tests.factories import BomItemFactory, PartFactory

pytestmark = pytest.mark.django_db


def annotated(build):
    return builds_with_progress().get(pk=build.pk)


def test_progress_is_completed_over_quantity(shop):
    build = shop.build(10)
    assert annotated(build).progress == 0
    [output] = build_output_create(build=build, quantity=6, user=shop.user)
    assert annotated(build).in_production == D(6)
    build_output_complete(build=build, output=output, quantity=4, user=shop.user)
    row = annotated(build)
    assert (row.progress, row.in_production) == (40, D(2))
    BuildOrder.objects.filter(pk=build.pk).update(completed=13)  # over-production
    assert annotated(build).progress == 100


def test_overdue_annotation_matches_the_queryset_rule(shop):
    today = timezone.localdate()
    builds = {
        "today": shop.build(1, target_date=today),
        "late": shop.build(1, target_date=today - datetime.timedelta(days=2)),
        "future": shop.build(1, target_date=today + datetime.timedelta(days=1)),
        "undated": shop.build(1),
        "cancelled": build_order_cancel(
            build=shop.build(1, target_date=today - datetime.timedelta(days=2)), user=shop.user
        ),
    }
    overdue = {b.pk for b in builds_with_progress().filter(overdue=True)}
    assert overdue == {builds["today"].pk, builds["late"].pk}
    assert overdue == set(BuildOrder.objects.overdue().values_list("pk", flat=True))
    tomorrow = today + datetime.timedelta(days=1)
    assert builds["future"].pk in {
        b.pk for b in builds_with_progress(today=tomorrow).filter(overdue=True)
    }


def figures(build):
    return {
        row.line.bom_item.sub_part.name: (row.required, row.allocated, row.consumed, row.available)
        for row in build_line_rows(build)
    }


def test_line_figures(shop):
    build = shop.build(10)
    other = shop.build(10)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=12, user=shop.user
    )
    build_allocate(
        line=shop.line(other, shop.screw), stock_item=shop.screws, quantity=30, user=shop.user
    )
    # available: in stock minus everything allocated anywhere (this build included)
    assert figures(build) == {
        "Resistor": (D(20), D(12), D(0), D(88)),
        "Screw": (D(44), D(0), D(0), D(20)),
    }
    [row] = [r for r in build_line_rows(build) if r.line.bom_item.sub_part == shop.resistor]
    assert (row.outstanding, row.fully_allocated) == (D(8), False)


def test_available_counts_variants_substitutes_and_the_source_location(shop):
    shop.resistor.is_template = True
    shop.resistor.save()
    shop.line_resistor.allow_variants = True
    shop.line_resistor.save()
    variant = PartFactory(name="Resistor 1%", variant_of=shop.resistor)
    substitute = PartFactory(name="Other resistor")
    shop.line_resistor.substitutes.create(part=substitute)
    shop.stock(variant, 7)
    shop.stock(substitute, 3)
    shop.stock(shop.resistor, 1000, location=shop.elsewhere)
    assert figures(shop.build(10))["Resistor"][3] == D(1110)
    assert figures(shop.build(10, take_from=shop.store))["Resistor"][3] == D(110)


def test_sales_order_allocations_reduce_availability(shop):
    from django.apps import apps

    from tests.factories import SalesOrderLineFactory

    apps.get_model("orders", "SalesOrderAllocation").objects.create(
        line=SalesOrderLineFactory(part=shop.screw, quantity=10), item=shop.screws, quantity=10
    )
    assert free_stock_by_part([shop.screw.pk]) == {shop.screw.pk: D(40)}
    assert figures(shop.build(10))["Screw"][3] == D(40)


def test_line_figures_use_a_fixed_number_of_queries(shop):
    shop.line_resistor.allow_variants = True  # variants are looked up once per tree level
    shop.line_resistor.save()
    small = shop.build(1)
    with CaptureQueriesContext(connection) as few:
        build_line_rows(small)
    for n in range(6):
        part = PartFactory(name=f"Extra {n}")
        BomItemFactory(part=shop.widget, sub_part=part, allow_variants=True)
        shop.stock(part, 5)
    big = shop.build(1)
    with CaptureQueriesContext(connection) as many:
        rows = build_line_rows(big)
    assert len(rows) == 8
    assert len(many) == len(few)


def test_allocations_and_outputs_for_the_change_page(shop, django_assert_num_queries):
    build = shop.build(10)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=12, user=shop.user
    )
    build_allocate(
        line=shop.line(build, shop.screw), stock_item=shop.screws, quantity=4, user=shop.user
    )
    build_output_create(build=build, quantity=2, user=shop.user)
    with django_assert_num_queries(2):
        rows = [
            (a.build_line.bom_item.sub_part.name, a.stock_item.location.name, a.quantity)
            for a in build_allocations(build)
        ] + [(o.part.name, o.location.name, o.quantity) for o in build_outputs(build)]
    assert rows == [
        ("Resistor", "Shelf", D(12)),
        ("Screw", "Shelf", D(4)),
        ("Widget", "Finished goods", D(2)),
    ]
