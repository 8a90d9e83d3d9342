"""Build order lifecycle: create (lines from the BOM), quantity, issue, hold, cancel,
complete (consuming exactly the allocated stock), child builds, edits and deletion.

Rules R36, R37, R42, R43 of the InvenTree domain reference.
"""

import datetime

import pytest
from django.utils import timezone

from builds.choices import BuildStatus
from builds.models import BuildItem, BuildLine, BuildOrder
from builds.services.build import (
    build_allocate,
    build_create_child_builds,
    build_order_cancel,
    build_order_complete,
    build_order_create,
    build_order_delete,
    build_order_hold,
    build_order_issue,
    build_order_set_quantity,
    build_order_update,
    build_order_update_lines,
    build_output_complete,
    build_output_create,
)
from inventory.choices import StockHistoryCode as H
from inventory.models import StockItem
from tests.builds.test_build_support import (  # noqa: F401
    D,
    codes,
    entries,
    last_history,
    refused_fixture,
    reload,
    shop_fixture,
    user_fixture,
)
from tests.factories import (
    BomItemFactory,
    PartCategoryFactory,
    PartFactory,
    StockItemFactory,
    StockLocationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def required(build):
    return {line.bom_item.sub_part.name: line.quantity for line in build.lines.all()}


# -- create (R36, R37) --------------------------------------------------------------------


def test_create_makes_a_pending_build_with_one_line_per_bom_line(shop):
    build = shop.build(10, title="First batch", batch="B-1")
    assert build.reference == "BO-0001"
    assert build.status == BuildStatus.PENDING
    assert (build.quantity, build.completed) == (10, 0)
    assert build.destination == shop.finished
    # 2 × 10 resistors; 4 × 10 screws + 10 % overage
    assert required(build) == {"Resistor": D(20), "Screw": D(44)}
    assert build.history.get().history_user == shop.user
    assert build.history.get().history_change_reason == "Created"
    line_history = BuildLine.history.filter(build_id=build.pk)
    assert {(h.history_user, h.history_change_reason) for h in line_history} == {
        (shop.user, "Line from the BOM")
    }


def test_absolute_overage_is_added_once_per_build(shop):
    shop.line_resistor.overage = "3"
    shop.line_resistor.save()
    assert required(shop.build(10))["Resistor"] == D(23)


def test_lines_include_inherited_lines_of_template_ancestors_and_skip_virtual_parts(user):
    template = PartFactory(name="Frame", assembly=True, is_template=True)
    variant = PartFactory(name="Frame XL", assembly=True, variant_of=template)
    BomItemFactory(part=template, sub_part=PartFactory(name="Bolt"), quantity=4, inherited=True)
    BomItemFactory(part=template, sub_part=PartFactory(name="Decal"), quantity=1)
    BomItemFactory(part=variant, sub_part=PartFactory(name="Tube"), quantity=2)
    BomItemFactory(part=variant, sub_part=PartFactory(name="Licence", virtual=True), quantity=1)
    build = build_order_create(part=variant, quantity=3, user=user)
    assert required(build) == {"Bolt": D(12), "Tube": D(6)}


def test_destination_defaults_to_the_part_then_category_default_location(shop):
    category_place = StockLocationFactory(name="Category default")
    category = PartCategoryFactory(default_location=category_place)
    assembly = PartFactory(assembly=True, category=category)
    assert build_order_create(part=assembly, quantity=1, user=shop.user).destination == (
        category_place
    )
    assembly.default_location = shop.finished
    assembly.save()
    assert build_order_create(part=assembly, quantity=1, user=shop.user).destination == (
        shop.finished
    )


def test_create_keeps_every_given_field(shop):
    group = UserFactory(username="lead").groups.create(name="Builders")
    parent = shop.build(1)
    build = shop.build(
        2,
        title="Rush",
        take_from=shop.store,
        parent=parent,
        target_date=datetime.date(2030, 1, 31),
        responsible_user=shop.user,
        responsible_group=group,
        notes="call before",
    )
    build.refresh_from_db()
    assert (build.title, build.take_from, build.parent, build.target_date) == (
        "Rush",
        shop.store,
        parent,
        datetime.date(2030, 1, 31),
    )
    assert (build.responsible_user, build.responsible_group, build.notes) == (
        shop.user,
        group,
        "call before",
    )
    assert list(parent.children.all()) == [build]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": 0}, "greater than zero"),
        ({"quantity": "2.5"}, "whole number"),
        ({"quantity": "many"}, "not a number"),
        ({"part": "not assembly"}, "not an assembly"),
        ({"part": "inactive"}, "inactive"),
        ({"destination": "structural"}, "structural"),
    ],
)
def test_create_refusals_change_nothing(shop, refused, change, message):
    kwargs = {"part": shop.widget, "quantity": 5, "user": shop.user}
    kwargs.update(change)
    if change.get("part") == "not assembly":
        kwargs["part"] = shop.resistor
    elif change.get("part") == "inactive":
        kwargs["part"] = PartFactory(assembly=True, active=False)
    if change.get("destination"):
        kwargs["destination"] = StockLocationFactory(structural=True)
    with refused(message):
        build_order_create(**kwargs)


# -- quantity (R37) -----------------------------------------------------------------------


def test_changing_the_quantity_recomputes_every_line(shop):
    build = shop.build(10)
    build = build_order_set_quantity(build=build, quantity=5, user=shop.user)
    assert build.quantity == 5
    assert required(build) == {"Resistor": D(10), "Screw": D(22)}
    assert last_history(BuildOrder, build.pk).history_change_reason == "Quantity 10 → 5"
    assert last_history(BuildOrder, build.pk).history_user == shop.user


def test_quantity_below_completed_is_refused(shop, refused):
    build = shop.build(10)
    output = build_output_create(build=build, quantity=4, user=shop.user)[0]
    build_output_complete(build=build, output=output, user=shop.user)
    with refused("4 are already completed"):
        build_order_set_quantity(build=build, quantity=3, user=shop.user)
    assert build_order_set_quantity(build=build, quantity=4, user=shop.user).quantity == 4


def test_quantity_of_a_closed_build_cannot_change(shop, refused):
    build = build_order_cancel(build=shop.build(10), user=shop.user)
    with refused("cancelled"):
        build_order_set_quantity(build=build, quantity=3, user=shop.user)


def test_update_lines_follows_bom_edits(shop):
    build = shop.build(10)
    BomItemFactory(part=shop.widget, sub_part=PartFactory(name="Washer"), quantity=1)
    shop.line_resistor.quantity = 3
    shop.line_resistor.save()
    build_order_update_lines(build=build, user=shop.user)
    assert required(build) == {"Resistor": D(30), "Screw": D(44), "Washer": D(10)}


# -- issue / hold (R43) ---------------------------------------------------------------------


def test_issue_starts_production_and_records_who(shop):
    build = build_order_issue(build=shop.build(), user=shop.user)
    assert build.status == BuildStatus.PRODUCTION
    assert build.issued_by == shop.user
    assert last_history(BuildOrder, build.pk).history_change_reason == "Issued"


def test_hold_and_resume(shop):
    build = shop.build()
    build = build_order_hold(build=build, user=shop.user)
    assert build.status == BuildStatus.ON_HOLD
    build = build_order_issue(build=build, user=shop.user)
    assert build.status == BuildStatus.PRODUCTION
    build = build_order_hold(build=build, user=shop.user)
    assert build.status == BuildStatus.ON_HOLD


@pytest.mark.parametrize(
    ("status", "service", "message"),
    [
        (BuildStatus.PRODUCTION, build_order_issue, "production"),
        (BuildStatus.COMPLETE, build_order_issue, "complete"),
        (BuildStatus.CANCELLED, build_order_issue, "cancelled"),
        (BuildStatus.ON_HOLD, build_order_hold, "on hold"),
        (BuildStatus.COMPLETE, build_order_hold, "complete"),
        (BuildStatus.CANCELLED, build_order_hold, "cancelled"),
        (BuildStatus.COMPLETE, build_order_cancel, "complete"),
        (BuildStatus.CANCELLED, build_order_cancel, "cancelled"),
    ],
)
def test_transitions_from_the_wrong_status_are_refused(shop, refused, status, service, message):
    build = shop.build()
    BuildOrder.objects.filter(pk=build.pk).update(status=status)
    with refused(message):
        service(build=build, user=shop.user)


# -- cancel (R43) ---------------------------------------------------------------------------


def test_cancel_removes_allocations_and_keeps_outputs_by_default(shop):
    build = shop.build()
    allocation = build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=20, user=shop.user
    )
    output = build_output_create(build=build, quantity=2, user=shop.user)[0]
    build = build_order_cancel(build=build, user=shop.user)
    assert build.status == BuildStatus.CANCELLED
    assert build.completed_by == shop.user
    assert build.completed_at is not None
    assert not BuildItem.objects.exists()
    assert reload(shop.resistors).quantity == D(100)  # stock untouched
    assert reload(output).is_building
    assert last_history(BuildItem, allocation.pk).history_type == "-"
    assert last_history(BuildItem, allocation.pk).history_user == shop.user


def test_cancel_can_delete_outputs_still_in_production(shop):
    build = shop.build()
    in_production = build_output_create(build=build, quantity=2, user=shop.user)[0]
    done = build_output_create(build=build, quantity=1, user=shop.user)[0]
    build_output_complete(build=build, output=done, user=shop.user)
    build_order_cancel(build=build, user=shop.user, delete_outputs=True)
    assert reload(in_production) is None
    assert reload(done).is_in_stock
    assert last_history(StockItem, in_production.pk).history_user == shop.user


# -- complete (R42) -------------------------------------------------------------------------


def ready_to_complete(shop, resistors=20, screws=44):
    """A build of 10 in production, fully built, with the given allocations."""
    build = shop.build(10)
    build_allocate(
        line=shop.line(build, shop.resistor),
        stock_item=shop.resistors,
        quantity=resistors,
        user=shop.user,
    )
    build_allocate(
        line=shop.line(build, shop.screw), stock_item=shop.screws, quantity=screws, user=shop.user
    )
    output = build_output_create(build=build, quantity=10, user=shop.user)[0]
    build_output_complete(build=build, output=output, user=shop.user)
    return reload(build)


def test_complete_consumes_exactly_the_allocated_quantities(shop):
    build = ready_to_complete(shop)
    build = build_order_complete(build=build, user=shop.user)
    assert build.status == BuildStatus.COMPLETE
    assert build.completed_by == shop.user
    assert build.completed_at is not None

    # 100 resistors, 20 allocated: 20 split off and consumed, 80 stay on the shelf
    resistors = reload(shop.resistors)
    assert (resistors.quantity, resistors.location, resistors.consumed_by) == (
        D(80),
        shop.shelf,
        None,
    )
    used = StockItem.objects.get(part=shop.resistor, consumed_by=build)
    assert (used.quantity, used.location, used.parent) == (D(20), None, resistors)
    assert not used.is_in_stock
    [entry] = entries(used, H.BUILD_CONSUMED)
    assert entry.user == shop.user
    assert entry.deltas["quantity"] == "20"
    assert entry.deltas["buildorder"] == build.pk
    assert entry.deltas["previous_location"] == shop.shelf.pk
    # 50 screws, 44 allocated
    assert reload(shop.screws).quantity == D(6)
    assert StockItem.objects.get(part=shop.screw, consumed_by=build).quantity == D(44)
    # the lines record what was used; no allocations remain
    assert {line.bom_item.sub_part.name: line.consumed for line in build.lines.all()} == {
        "Resistor": D(20),
        "Screw": D(44),
    }
    assert not BuildItem.objects.exists()
    assert StockItem.objects.in_stock().filter(part=shop.screw).count() == 1
    assert last_history(StockItem, used.pk).history_user == shop.user


def test_complete_consumes_a_whole_item_without_splitting(shop):
    screws = shop.stock(shop.screw, 44)
    build = shop.build(10)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=20, user=shop.user
    )
    build_allocate(
        line=shop.line(build, shop.screw), stock_item=screws, quantity=44, user=shop.user
    )
    output = build_output_create(build=build, quantity=10, user=shop.user)[0]
    build_output_complete(build=build, output=output, user=shop.user)
    build_order_complete(build=build, user=shop.user)
    screws = reload(screws)
    assert (screws.quantity, screws.consumed_by, screws.location) == (D(44), build, None)
    assert codes(screws)[-1] == H.BUILD_CONSUMED
    assert reload(shop.screws).quantity == D(50)


def test_over_allocated_stock_is_consumed_as_allocated(shop):
    build = build_order_complete(build=ready_to_complete(shop, resistors=35), user=shop.user)
    assert StockItem.objects.get(part=shop.resistor, consumed_by=build).quantity == D(35)
    assert reload(shop.resistors).quantity == D(65)


def test_complete_needs_production(shop, refused):
    build = shop.build()
    with refused("pending"):
        build_order_complete(build=build, user=shop.user, accept_incomplete=True)


def test_complete_refused_while_outputs_are_in_production(shop, refused):
    build = ready_to_complete(shop)
    build_order_set_quantity(build=build, quantity=12, user=shop.user)
    build_output_create(build=build, quantity=2, user=shop.user)
    with refused("1 output is still in production"):
        build_order_complete(build=build, user=shop.user, accept_incomplete=True)


def test_complete_refused_until_the_quantity_is_built_unless_accepted(shop, refused):
    build = shop.build(10)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=20, user=shop.user
    )
    build_allocate(
        line=shop.line(build, shop.screw), stock_item=shop.screws, quantity=44, user=shop.user
    )
    output = build_output_create(build=build, quantity=6, user=shop.user)[0]
    build_output_complete(build=build, output=output, user=shop.user)
    with refused("Only 6 of 10 are built"):
        build_order_complete(build=build, user=shop.user)
    build = build_order_complete(build=build, user=shop.user, accept_incomplete=True)
    assert (build.status, build.completed, build.quantity) == (BuildStatus.COMPLETE, 6, 10)


def test_complete_refused_until_untracked_lines_are_fully_allocated(shop, refused):
    build = ready_to_complete(shop, screws=40)
    with refused(r"Screw \(40 of 44\)"):
        build_order_complete(build=build, user=shop.user)
    build = build_order_complete(build=build, user=shop.user, accept_unallocated=True)
    assert StockItem.objects.get(part=shop.screw, consumed_by=build).quantity == D(40)


def test_optional_and_consumable_lines_need_no_allocation(shop):
    BomItemFactory(part=shop.widget, sub_part=PartFactory(name="Glue"), consumable=True)
    BomItemFactory(part=shop.widget, sub_part=PartFactory(name="Spare"), optional=True)
    build = build_order_complete(build=ready_to_complete(shop), user=shop.user)
    assert build.status == BuildStatus.COMPLETE


def test_complete_refused_while_child_builds_are_open(shop, refused, settings):
    build = ready_to_complete(shop)
    child = shop.build(1, parent=build)
    with refused(f"Child build orders are still open: {child.reference}"):
        build_order_complete(build=build, user=shop.user)
    settings.BUILDORDER_REQUIRE_CLOSED_CHILDS = False
    assert build_order_complete(build=build, user=shop.user).status == BuildStatus.COMPLETE


def test_a_complete_build_cannot_be_completed_again(shop, refused):
    build = build_order_complete(build=ready_to_complete(shop), user=shop.user)
    with refused("complete"):
        build_order_complete(build=build, user=shop.user)


def test_complete_refused_when_allocated_stock_has_shrunk(shop, refused):
    build = ready_to_complete(shop)
    StockItem.objects.filter(pk=shop.screws.pk).update(quantity=30)  # counted down meanwhile
    with refused("holds only 30, but 44 is allocated"):
        build_order_complete(build=build, user=shop.user)


# -- edits and deletion -----------------------------------------------------------------------


def test_update_descriptive_fields(shop):
    build = shop.build()
    build = build_order_update(
        build=build, user=shop.user, title="Renamed", target_date=datetime.date(2031, 5, 1)
    )
    build.refresh_from_db()
    assert (build.title, build.target_date) == ("Renamed", datetime.date(2031, 5, 1))
    assert last_history(BuildOrder, build.pk).history_change_reason == (
        "Edited: title, target_date"
    )


def test_update_refusals(shop, refused):
    build = shop.build()
    child = shop.build(1, parent=build)
    with refused("child of itself"):
        build_order_update(build=build, user=shop.user, parent=child)
    with refused("structural"):
        build_order_update(
            build=build, user=shop.user, destination=StockLocationFactory(structural=True)
        )
    with refused("cannot be changed here"):
        build_order_update(build=build, user=shop.user, part=shop.resistor)


def test_delete_only_builds_that_made_nothing(shop, refused):
    build = shop.build()
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=5, user=shop.user
    )
    build_order_delete(build=build, user=shop.user)
    assert not BuildOrder.objects.exists()
    assert not BuildLine.objects.exists()
    assert last_history(BuildOrder, build.pk).history_type == "-"
    other = shop.build()
    build_output_create(build=other, quantity=1, user=shop.user)
    with refused("has outputs"):
        build_order_delete(build=other, user=shop.user)


# -- child builds for sub-assemblies --------------------------------------------------------


@pytest.fixture
def boards(shop):
    """Widgets also need 3 × Board (a sub-assembly); 12 boards are on the shelf."""
    board = PartFactory(name="Board", assembly=True)
    BomItemFactory(part=board, sub_part=PartFactory(name="Chip"), quantity=1)
    BomItemFactory(part=shop.widget, sub_part=board, quantity=3)
    stock = StockItemFactory(part=board, quantity=12, location=shop.shelf)
    return board, stock


def test_child_builds_cover_the_shortfall_of_sub_assemblies(shop, boards):
    board, stock = boards
    other = shop.build(1)
    build_allocate(line=shop.line(other, board), stock_item=stock, quantity=2, user=shop.user)
    build = shop.build(10, take_from=shop.shelf, target_date=datetime.date(2030, 6, 1))
    build_allocate(line=shop.line(build, board), stock_item=stock, quantity=4, user=shop.user)
    # needs 30, 4 allocated → 26 more; 12 − 2 − 4 = 6 available → 20 short
    [child] = build_create_child_builds(build=build, user=shop.user)
    assert (child.part, child.quantity, child.parent) == (board, 20, build)
    assert child.status == BuildStatus.PENDING
    assert child.target_date == datetime.date(2030, 6, 1)
    assert child.destination == shop.shelf
    assert required(child) == {"Chip": D(20)}
    assert child.history.get().history_user == shop.user
    # the open child build covers the shortfall: running again creates nothing
    assert build_create_child_builds(build=build, user=shop.user) == []
    assert BuildOrder.objects.count() == 3


def test_no_child_builds_when_stock_suffices(shop, boards):
    build = shop.build(4)  # needs 12 boards; 12 available
    assert build_create_child_builds(build=build, user=shop.user) == []


def test_child_build_quantity_rounds_up(shop, boards):
    board, _ = boards
    shop.widget.bom_items.filter(sub_part=board).update(quantity=D("3.5"))
    build = shop.build(10)  # needs 35, 12 available → 23 short
    build_order_update_lines(build=build, user=shop.user)
    [child] = build_create_child_builds(build=build, user=shop.user)
    assert child.quantity == 23
    shop.widget.bom_items.filter(sub_part=board).update(overage="0.5")
    build_order_set_quantity(build=build, quantity=9, user=shop.user)  # 31.5 + 0.5 = 32
    build_order_cancel(build=child, user=shop.user)
    [child] = build_create_child_builds(build=build, user=shop.user)
    assert child.quantity == 20


def test_child_builds_of_a_closed_build_are_refused(shop, boards, refused):
    build = build_order_cancel(build=shop.build(10), user=shop.user)
    with refused("cancelled"):
        build_create_child_builds(build=build, user=shop.user)


def test_overdue_flag(shop):
    today = timezone.localdate()
    due_today = shop.build(1, target_date=today)
    late = shop.build(1, target_date=today - datetime.timedelta(days=1))
    future = shop.build(1, target_date=today + datetime.timedelta(days=1))
    no_date = shop.build(1)
    closed = build_order_cancel(
        build=shop.build(1, target_date=today - datetime.timedelta(days=3)), user=shop.user
    )
    assert set(BuildOrder.objects.overdue()) == {due_today, late}
    assert [b.is_overdue for b in (due_today, late, future, no_date, reload(closed))] == [
        True,
        True,
        False,
        False,
        False,
    ]
