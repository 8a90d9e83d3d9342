"""Build outputs: create (serials for trackable assemblies), complete (installing trackable
components), scrap, delete. Rules R39, R40, R41, R43 of the InvenTree domain reference."""

import pytest

from builds.choices import BuildStatus
from builds.models import BuildItem, BuildLine, BuildOrder
from builds.services.build import (
    build_allocate,
    build_order_hold,
    build_order_issue,
    build_output_complete,
    build_output_create,
    build_output_delete,
    build_output_scrap,
)
from inventory.choices import StockHistoryCode as H
from inventory.choices import StockStatus
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
from tests.factories import BomItemFactory, PartFactory, StockLocationFactory

pytestmark = pytest.mark.django_db


# -- create (R39) -------------------------------------------------------------------------------


def test_create_output_in_production_and_start_production(shop):
    build = shop.build(10, batch="B-7")
    [output] = build_output_create(build=build, quantity=4, user=shop.user, notes="first run")
    output.refresh_from_db()
    assert (output.part, output.quantity, output.build, output.is_building) == (
        shop.widget,
        D(4),
        build,
        True,
    )
    assert (output.location, output.batch, output.serial) == (shop.finished, "B-7", "")
    assert not output.is_in_stock
    assert not StockItem.objects.in_stock().filter(part=shop.widget).exists()
    assert codes(output) == [H.CREATED, H.BUILD_OUTPUT_CREATED]
    [entry] = entries(output, H.BUILD_OUTPUT_CREATED)
    assert (entry.user, entry.notes, entry.deltas["buildorder"]) == (
        shop.user,
        "first run",
        build.pk,
    )
    assert entry.deltas["quantity"] == "4"
    build.refresh_from_db()
    assert (build.status, build.issued_by) == (BuildStatus.PRODUCTION, shop.user)
    assert last_history(StockItem, output.pk).history_user == shop.user


def test_create_output_at_a_chosen_location_with_its_own_batch(shop):
    build = shop.build()
    [output] = build_output_create(
        build=build, quantity=1, batch="X", location=shop.elsewhere, user=shop.user
    )
    assert (output.location, output.batch) == (shop.elsewhere, "X")


def test_trackable_assemblies_get_one_output_per_serial(shop, refused):
    shop.widget.trackable = True
    shop.widget.save()
    build = shop.build(3)
    with refused("trackable: enter a serial number"):
        build_output_create(build=build, quantity=3, user=shop.user)
    with refused("serials"):
        build_output_create(build=build, quantity=3, serials="1-2", user=shop.user)
    outputs = build_output_create(build=build, quantity=3, serials="1-3", user=shop.user)
    assert [(o.serial, o.quantity, o.is_building) for o in outputs] == [
        ("1", D(1), True),
        ("2", D(1), True),
        ("3", D(1), True),
    ]
    other = shop.build(1)
    with refused("already in use"):
        build_output_create(build=other, quantity=1, serials="2", user=shop.user)


def test_serials_for_an_untracked_assembly_are_refused(shop, refused):
    build = shop.build()
    with refused("not trackable"):
        build_output_create(build=build, quantity=1, serials="1", user=shop.user)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (BuildStatus.ON_HOLD, "on hold: cannot create outputs"),
        (BuildStatus.CANCELLED, "cancelled"),
        (BuildStatus.COMPLETE, "complete"),
    ],
)
def test_create_output_refused_unless_pending_or_in_production(shop, refused, status, message):
    build = shop.build()
    BuildOrder.objects.filter(pk=build.pk).update(status=status)
    with refused(message):
        build_output_create(build=build, quantity=1, user=shop.user)


def test_output_quantity_must_be_whole(shop, refused):
    build = shop.build()
    with refused("whole"):
        build_output_create(build=build, quantity="1.5", user=shop.user)


# -- complete (R40) -----------------------------------------------------------------------------


def test_complete_output_makes_it_available_stock_at_the_destination(shop):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=4, location=shop.shelf, user=shop.user)
    done = build_output_complete(build=build, output=output, user=shop.user, notes="QA ok")
    assert done.pk == output.pk
    done.refresh_from_db()
    assert (done.is_building, done.location, done.status, done.quantity) == (
        False,
        shop.finished,
        StockStatus.OK,
        D(4),
    )
    assert done.is_in_stock
    assert codes(done)[-1] == H.BUILD_OUTPUT_COMPLETED
    [entry] = entries(done, H.BUILD_OUTPUT_COMPLETED)
    assert (entry.user, entry.notes, entry.deltas["quantity"]) == (shop.user, "QA ok", "4")
    assert entry.deltas["location"] == shop.finished.pk
    build.refresh_from_db()
    assert (build.completed, build.remaining) == (4, 6)
    assert last_history(BuildOrder, build.pk).history_user == shop.user


def test_complete_part_of_an_output_splits_it(shop):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=4, user=shop.user)
    done = build_output_complete(
        build=build,
        output=output,
        quantity=3,
        location=shop.elsewhere,
        status=StockStatus.ATTENTION,
        user=shop.user,
    )
    assert done.pk != output.pk
    assert (done.quantity, done.is_building, done.location, done.status, done.parent) == (
        D(3),
        False,
        shop.elsewhere,
        StockStatus.ATTENTION,
        output,
    )
    rest = reload(output)
    assert (rest.quantity, rest.is_building, rest.build) == (D(1), True, build)
    assert reload(build).completed == 3


def test_complete_output_refusals(shop, refused):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=4, user=shop.user)
    with refused("only 4: cannot complete 5"):
        build_output_complete(build=build, output=output, quantity=5, user=shop.user)
    with refused("scrap it"):
        build_output_complete(
            build=build, output=output, status=StockStatus.REJECTED, user=shop.user
        )
    with refused("structural"):
        build_output_complete(
            build=build,
            output=output,
            location=StockLocationFactory(structural=True),
            user=shop.user,
        )
    other = build_order_issue(build=shop.build(1), user=shop.user)
    with refused("not an output of BO-0002"):
        build_output_complete(build=other, output=output, user=shop.user)
    build_output_complete(build=build, output=output, user=shop.user)
    with refused("no longer in production"):
        build_output_complete(build=build, output=output, user=shop.user)


def test_complete_output_needs_production(shop, refused):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=4, user=shop.user)
    build_order_hold(build=build, user=shop.user)
    with refused("on hold: cannot complete outputs. Issue it again"):
        build_output_complete(build=build, output=output, user=shop.user)


def test_complete_output_needs_somewhere_to_go(shop, refused):
    build = shop.build(2, destination=None)
    BuildOrder.objects.filter(pk=build.pk).update(destination=None)
    [output] = build_output_create(build=build, quantity=1, user=shop.user)
    StockItem.objects.filter(pk=output.pk).update(location=None)
    with refused("Choose where the completed output goes"):
        build_output_complete(build=build, output=output, user=shop.user)
    build_output_complete(build=build, output=output, location=shop.shelf, user=shop.user)
    assert reload(output).location == shop.shelf


@pytest.fixture
def tracked(shop):
    """Trackable Widgets need 1 × Chip (trackable) each, allocated per output; two
    serialized chips and a batch of 5 chips are on the shelf; outputs #1 and #2."""
    shop.widget.trackable = True
    shop.widget.save()
    chip = PartFactory(name="Chip", trackable=True)
    BomItemFactory(part=shop.widget, sub_part=chip, quantity=1)
    build = shop.build(2)
    outputs = build_output_create(build=build, quantity=2, serials="1-2", user=shop.user)
    stock = (
        shop.stock(chip, 1, serial="C1"),
        shop.stock(chip, 1, serial="C2"),
        shop.stock(chip, 5),
    )
    return chip, build, outputs, stock


def test_completing_installs_the_trackable_components_allocated_to_the_output(shop, tracked):
    chip, build, (out1, out2), (c1, _, batch) = tracked
    line = shop.line(build, chip)
    build_allocate(line=line, stock_item=c1, quantity=1, output=out1, user=shop.user)
    build_allocate(line=line, stock_item=batch, quantity=1, output=out2, user=shop.user)
    build_output_complete(build=build, output=out1, user=shop.user)
    c1 = reload(c1)
    assert (c1.belongs_to, c1.location, c1.quantity) == (out1, None, D(1))
    assert codes(c1)[-1] == H.INSTALLED_INTO_ASSEMBLY
    assert H.INSTALLED_CHILD_ITEM in codes(out1)
    assert not BuildItem.objects.filter(install_into=out1).exists()
    assert reload(line).consumed == D(1)
    # a batch is split: one chip goes in, four stay on the shelf
    build_output_complete(build=build, output=out2, user=shop.user)
    [installed] = StockItem.objects.filter(belongs_to=out2)
    assert (installed.part, installed.quantity, installed.parent) == (chip, D(1), batch)
    assert (reload(batch).quantity, reload(batch).location) == (D(4), shop.shelf)
    assert reload(line).consumed == D(2)
    assert reload(build).completed == 2
    assert not BuildItem.objects.exists()


def test_outputs_missing_trackable_components_are_refused_unless_accepted(shop, tracked, refused):
    chip, build, (out1, _), _ = tracked
    with refused(r"missing trackable components: IPN-\d+ \| Chip \(0 of 1\)"):
        build_output_complete(build=build, output=out1, user=shop.user)
    build_output_complete(build=build, output=out1, accept_unallocated=True, user=shop.user)
    assert not reload(out1).is_building
    assert not StockItem.objects.filter(belongs_to=out1).exists()


def test_untracked_allocations_are_not_used_by_outputs(shop):
    build = shop.build(10)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=20, user=shop.user
    )
    [output] = build_output_create(build=build, quantity=10, user=shop.user)
    build_output_complete(build=build, output=output, user=shop.user)
    assert reload(shop.resistors).quantity == D(100)
    assert BuildItem.objects.get().quantity == D(20)  # consumed when the build completes


def test_partial_completion_of_an_output_with_allocations_is_refused(shop, refused):
    chip = PartFactory(name="Chip", trackable=True)
    shop.widget.trackable = True
    shop.widget.save()
    BomItemFactory(part=shop.widget, sub_part=chip, quantity=1)
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=1, serials="9", user=shop.user)
    StockItem.objects.filter(pk=output.pk).update(serial="", quantity=3)  # a batch output
    build_allocate(
        line=shop.line(build, chip),
        stock_item=shop.stock(chip, 3),
        quantity=3,
        output=output,
        user=shop.user,
    )
    with refused("has stock allocated to it: complete the whole output"):
        build_output_complete(build=build, output=output, quantity=1, user=shop.user)


# -- scrap (R41) --------------------------------------------------------------------------------


def test_scrap_rejects_an_output_without_counting_it(shop):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=4, user=shop.user)
    scrapped = build_output_scrap(
        build=build, output=output, quantity=1, location=shop.elsewhere, user=shop.user
    )
    assert (scrapped.quantity, scrapped.status, scrapped.is_building, scrapped.location) == (
        D(1),
        StockStatus.REJECTED,
        False,
        shop.elsewhere,
    )
    assert not scrapped.is_in_stock
    assert codes(scrapped)[-1] == H.BUILD_OUTPUT_REJECTED
    assert reload(output).quantity == D(3)
    assert reload(build).completed == 0
    whole = build_output_scrap(build=build, output=output, user=shop.user)
    assert (whole.pk, whole.status, whole.location) == (
        output.pk,
        StockStatus.REJECTED,
        shop.finished,
    )
    assert reload(build).completed == 0


def test_scrap_installs_allocated_components_unless_discarded(shop, tracked):
    chip, build, (out1, out2), (c1, c2, _) = tracked
    line = shop.line(build, chip)
    build_allocate(line=line, stock_item=c1, quantity=1, output=out1, user=shop.user)
    build_allocate(line=line, stock_item=c2, quantity=1, output=out2, user=shop.user)
    build_output_scrap(build=build, output=out1, user=shop.user)
    assert reload(c1).belongs_to == out1
    build_output_scrap(build=build, output=out2, discard_allocations=True, user=shop.user)
    c2 = reload(c2)
    assert (c2.belongs_to, c2.location) == (None, shop.shelf)
    assert c2.is_in_stock
    assert not BuildItem.objects.exists()
    assert reload(line).consumed == D(1)


def test_scrap_refusals(shop, refused):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=2, user=shop.user)
    with refused("only 2: cannot scrap 3"):
        build_output_scrap(build=build, output=output, quantity=3, user=shop.user)
    BuildOrder.objects.filter(pk=build.pk).update(status=BuildStatus.CANCELLED)
    with refused("cancelled"):
        build_output_scrap(build=build, output=output, user=shop.user)


# -- delete (R43) ------------------------------------------------------------------------------


def test_delete_output_in_production_frees_its_allocations(shop, tracked):
    chip, build, (out1, _), (c1, _, _) = tracked
    allocation = build_allocate(
        line=shop.line(build, chip), stock_item=c1, quantity=1, output=out1, user=shop.user
    )
    build_output_delete(build=build, output=out1, user=shop.user)
    assert reload(out1) is None
    assert not BuildItem.objects.filter(pk=allocation.pk).exists()
    assert reload(c1).is_in_stock
    record = last_history(StockItem, out1.pk)
    assert (record.history_type, record.history_user) == ("-", shop.user)


def test_only_outputs_in_production_can_be_deleted(shop, refused):
    build = shop.build(10)
    [output] = build_output_create(build=build, quantity=2, user=shop.user)
    build_output_complete(build=build, output=output, user=shop.user)
    with refused("no longer in production"):
        build_output_delete(build=build, output=output, user=shop.user)
    with refused("not an output"):
        build_output_delete(build=build, output=shop.resistors, user=shop.user)
    assert BuildLine.objects.filter(build=build).count() == 2
