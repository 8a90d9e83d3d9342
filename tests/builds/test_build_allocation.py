"""Allocating stock to build lines: validity, limits, unallocate, auto-allocate, trim.

Rules R13, R38, R44 and R45 of the InvenTree domain reference.
"""

import datetime

import pytest

from builds.choices import BuildStatus
from builds.models import BuildItem, BuildOrder
from builds.services.build import (
    build_allocate,
    build_auto_allocate,
    build_order_cancel,
    build_order_set_quantity,
    build_output_create,
    build_trim_allocations,
    build_unallocate,
)
from inventory.choices import StockStatus
from tests.builds.test_build_support import (  # noqa: F401
    D,
    last_history,
    refused_fixture,
    reload,
    shop_fixture,
    user_fixture,
)
from tests.factories import BomItemFactory, PartFactory, StockLocationFactory

pytestmark = pytest.mark.django_db


def allocated(build):
    """{(component, stock item pk, output pk): quantity} of the build's allocations."""
    return {
        (a.build_line.bom_item.sub_part.name, a.stock_item_id, a.install_into_id): a.quantity
        for a in BuildItem.objects.filter(build_line__build=build).select_related(
            "build_line__bom_item__sub_part"
        )
    }


def allocate(shop, build, part, item, quantity, **kwargs):
    return build_allocate(
        line=shop.line(build, part), stock_item=item, quantity=quantity, user=shop.user, **kwargs
    )


# -- allocate (R38) -------------------------------------------------------------------------


def test_allocate_reserves_stock_without_moving_it(shop):
    build = shop.build()
    allocation = allocate(shop, build, shop.resistor, shop.resistors, 20)
    assert allocated(build) == {("Resistor", shop.resistors.pk, None): D(20)}
    resistors = reload(shop.resistors)
    assert (resistors.quantity, resistors.location) == (D(100), shop.shelf)
    assert resistors.is_in_stock
    record = last_history(BuildItem, allocation.pk)
    assert (record.history_user, record.history_change_reason) == (shop.user, "Allocated 20")


def test_allocating_the_same_item_again_adds_to_its_allocation(shop):
    build = shop.build()
    allocate(shop, build, shop.resistor, shop.resistors, 15)
    allocate(shop, build, shop.resistor, shop.resistors, "7.5")
    assert allocated(build) == {("Resistor", shop.resistors.pk, None): D("22.5")}


def test_allocation_is_limited_to_the_unallocated_quantity_across_builds(shop, refused):
    first, second = shop.build(), shop.build()
    allocate(shop, first, shop.resistor, shop.resistors, 20)
    allocate(shop, first, shop.resistor, shop.resistors, 50)
    with refused("Only 30 of 100 × Resistor is unallocated: cannot allocate 31"):
        allocate(shop, second, shop.resistor, shop.resistors, 31)
    allocate(shop, second, shop.resistor, shop.resistors, 30)
    with refused("Only 0 of"):
        allocate(shop, second, shop.resistor, shop.resistors, "0.00001")


def test_sales_order_allocations_count_against_the_item(shop, refused):
    """Stock set aside for an open sales order is not available to builds."""
    from django.apps import apps

    from tests.factories import SalesOrderLineFactory

    sales_line = SalesOrderLineFactory(part=shop.resistor, quantity=90)
    apps.get_model("orders", "SalesOrderAllocation").objects.create(
        line=sales_line, item=shop.resistors, quantity=85
    )
    build = shop.build()
    with refused("Only 15 of 100 × Resistor is unallocated: cannot allocate 20"):
        allocate(shop, build, shop.resistor, shop.resistors, 20)
    allocate(shop, build, shop.resistor, shop.resistors, 15)
    result = build_auto_allocate(build=build, user=shop.user)
    assert result.ambiguous_lines == []
    assert allocated(build)[("Resistor", shop.resistors.pk, None)] == D(15)


def test_stock_not_in_stock_cannot_be_allocated(shop, refused):
    build = shop.build()
    for item in (
        shop.stock(shop.resistor, 5, status=StockStatus.DESTROYED),
        shop.stock(shop.resistor, 0),
        shop.stock(shop.resistor, 5, consumed_by=shop.build()),
        shop.stock(shop.resistor, 5, is_building=True, build=shop.build()),
    ):
        with refused("is not in stock"):
            allocate(shop, build, shop.resistor, item, 1)


def test_only_valid_parts_can_be_allocated(shop, refused):
    build = shop.build()
    with refused("Screw cannot be used for the .*Resistor line"):
        allocate(shop, build, shop.resistor, shop.screws, 1)


def test_variants_only_when_the_line_allows_them(shop, refused):
    shop.resistor.is_template = True
    shop.resistor.save()
    variant = PartFactory(name="Resistor 1%", variant_of=shop.resistor)
    deep = PartFactory(name="Resistor 1% HQ", variant_of=variant)
    variant.is_template = True
    variant.save()
    stock, deep_stock = shop.stock(variant, 30), shop.stock(deep, 30)
    build = shop.build()
    with refused("cannot be used"):
        allocate(shop, build, shop.resistor, stock, 5)
    shop.line_resistor.allow_variants = True
    shop.line_resistor.save()
    allocate(shop, build, shop.resistor, stock, 5)
    allocate(shop, build, shop.resistor, deep_stock, 6)
    assert allocated(build) == {
        ("Resistor", stock.pk, None): D(5),
        ("Resistor", deep_stock.pk, None): D(6),
    }


def test_substitutes_with_the_same_trackable_flag(shop, refused):
    substitute = PartFactory(name="Resistor (other brand)")
    trackable_substitute = PartFactory(name="Resistor (serialized)", trackable=True)
    shop.line_resistor.substitutes.create(part=substitute)
    shop.line_resistor.substitutes.create(part=trackable_substitute)
    build = shop.build()
    allocate(shop, build, shop.resistor, shop.stock(substitute, 10), 10)
    serialized_stock = shop.stock(trackable_substitute, 10)
    with refused("cannot be used"):
        allocate(shop, build, shop.resistor, serialized_stock, 1)


def test_stock_must_be_within_the_source_location_subtree(shop, refused):
    build = shop.build(take_from=shop.store)
    outside = shop.stock(shop.resistor, 50, location=shop.elsewhere)
    with refused("is not in Store .*or below"):
        allocate(shop, build, shop.resistor, outside, 1)
    allocate(shop, build, shop.resistor, shop.resistors, 20)  # the shelf is inside the store
    assert allocated(build) == {("Resistor", shop.resistors.pk, None): D(20)}


def test_quantity_must_be_positive_and_sane(shop, refused):
    build = shop.build()
    for quantity, message in ((0, "greater than zero"), (-1, "greater than zero"), ("x", "number")):
        with refused(message):
            allocate(shop, build, shop.resistor, shop.resistors, quantity)
    with refused("at most 5 decimal places"):
        allocate(shop, build, shop.resistor, shop.resistors, "0.000001")


def test_line_of_another_build_is_refused(shop, refused):
    build, other = shop.build(), shop.build()
    line = shop.line(other, shop.resistor)
    line.build = build  # claims to be of the first build (as a tampered form could)
    with refused("not part of BO-0001"):
        build_allocate(line=line, stock_item=shop.resistors, quantity=1, user=shop.user)


@pytest.mark.parametrize("status", [BuildStatus.COMPLETE, BuildStatus.CANCELLED])
def test_closed_builds_take_no_allocations(shop, refused, status):
    build = shop.build()
    BuildOrder.objects.filter(pk=build.pk).update(status=status)
    with refused("cannot allocate stock"):
        allocate(shop, build, shop.resistor, shop.resistors, 1)


# -- trackable components go to one output (R38) ---------------------------------------------


@pytest.fixture
def tracked(shop):
    """Widgets become trackable and need 1 × Chip (trackable) each; two serialized chips and
    a batch of 5 unserialized chips are on the shelf; the build has outputs #1 and #2."""
    shop.widget.trackable = True
    shop.widget.save()
    chip = PartFactory(name="Chip", trackable=True)
    BomItemFactory(part=shop.widget, sub_part=chip, quantity=1)
    c1 = shop.stock(chip, 1, serial="C1")
    c2 = shop.stock(chip, 1, serial="C2")
    batch = shop.stock(chip, 5)
    build = shop.build(2)
    outputs = build_output_create(build=build, quantity=2, serials="1-2", user=shop.user)
    return chip, build, outputs, (c1, c2, batch)


def test_trackable_stock_is_allocated_to_an_output(shop, tracked):
    chip, build, (out1, out2), (c1, _, batch) = tracked
    allocate(shop, build, chip, c1, 1, output=out1)
    allocate(shop, build, chip, batch, 1, output=out2)
    assert allocated(build) == {
        ("Chip", c1.pk, out1.pk): D(1),
        ("Chip", batch.pk, out2.pk): D(1),
    }


def test_trackable_allocation_needs_an_output_of_this_build(shop, tracked, refused):
    chip, build, (out1, _), (c1, _, batch) = tracked
    with refused("Chip is trackable: choose the build output"):
        allocate(shop, build, chip, c1, 1)
    other_output = build_output_create(
        build=shop.build(1), quantity=1, serials="7", user=shop.user
    )[0]
    with refused("is not an output of BO-0001"):
        allocate(shop, build, chip, c1, 1, output=other_output)
    with refused("whole number"):
        allocate(shop, build, chip, batch, "1.5", output=out1)


def test_serialized_stock_allocates_exactly_one(shop, tracked, refused):
    chip, build, (out1, out2), (c1, _, _) = tracked
    with refused("serialized: allocate exactly 1"):
        allocate(shop, build, chip, c1, 2, output=out1)
    allocate(shop, build, chip, c1, 1, output=out1)
    with refused("Only 0 of Chip #C1 is unallocated"):
        allocate(shop, build, chip, c1, 1, output=out2)


def test_untracked_stock_is_not_allocated_to_an_output(shop, tracked, refused):
    _, build, (out1, _), _ = tracked
    with refused("not trackable: it is allocated to the build"):
        allocate(shop, build, shop.resistor, shop.resistors, 2, output=out1)


# -- unallocate --------------------------------------------------------------------------------


def test_unallocate_part_of_an_allocation(shop):
    build = shop.build()
    allocation = allocate(shop, build, shop.resistor, shop.resistors, 20)
    freed = build_unallocate(build=build, allocation=allocation, quantity=5, user=shop.user)
    assert freed == D(5)
    assert allocated(build) == {("Resistor", shop.resistors.pk, None): D(15)}
    assert last_history(BuildItem, allocation.pk).history_change_reason == "Unallocated 5"
    freed = build_unallocate(build=build, allocation=allocation, quantity=15, user=shop.user)
    assert (freed, allocated(build)) == (D(15), {})


def test_unallocate_whole_lines_or_everything(shop):
    build = shop.build()
    allocate(shop, build, shop.resistor, shop.resistors, 20)
    allocate(shop, build, shop.screw, shop.screws, 44)
    freed = build_unallocate(build=build, line=shop.line(build, shop.screw), user=shop.user)
    assert freed == D(44)
    assert allocated(build) == {("Resistor", shop.resistors.pk, None): D(20)}
    assert build_unallocate(build=build, user=shop.user) == D(20)
    assert allocated(build) == {}


def test_unallocate_refusals(shop, refused):
    build, other = shop.build(), shop.build()
    allocation = allocate(shop, build, shop.resistor, shop.resistors, 20)
    with refused("Only 20 is allocated: cannot unallocate 21"):
        build_unallocate(build=build, allocation=allocation, quantity=21, user=shop.user)
    with refused("no longer part of BO-0002"):
        build_unallocate(build=other, allocation=allocation, user=shop.user)
    with refused("Nothing of this is allocated"):
        build_unallocate(build=other, user=shop.user)
    with refused("Choose the allocation to unallocate part of"):
        build_unallocate(build=build, quantity=5, user=shop.user)


# -- auto-allocate (R44) ------------------------------------------------------------------------


def test_auto_allocate_takes_the_only_candidate(shop):
    build = shop.build()
    result = build_auto_allocate(build=build, user=shop.user)
    assert allocated(build) == {
        ("Resistor", shop.resistors.pk, None): D(20),
        ("Screw", shop.screws.pk, None): D(44),
    }
    assert (result.quantity, len(result.allocations), result.ambiguous_lines) == (D(64), 2, [])


def test_auto_allocate_only_the_unallocated_remainder(shop):
    build = shop.build()
    allocate(shop, build, shop.resistor, shop.resistors, 15)
    build_auto_allocate(build=build, user=shop.user)
    assert allocated(build)[("Resistor", shop.resistors.pk, None)] == D(20)


def test_auto_allocate_takes_what_there_is(shop):
    build = shop.build(20)  # 40 resistors, 88 screws needed; 50 screws in stock
    build_auto_allocate(build=build, user=shop.user)
    assert allocated(build)[("Screw", shop.screws.pk, None)] == D(50)


def test_auto_allocate_leaves_ambiguous_lines_unless_interchangeable(shop):
    older = shop.stock(shop.resistor, 8)
    expiring = shop.stock(shop.resistor, 5, expiry_date=datetime.date(2030, 1, 1))
    build = shop.build()
    result = build_auto_allocate(build=build, user=shop.user)
    assert [line.bom_item.sub_part for line in result.ambiguous_lines] == [shop.resistor]
    assert allocated(build) == {("Screw", shop.screws.pk, None): D(44)}
    result = build_auto_allocate(build=build, user=shop.user, interchangeable=True)
    # earliest expiry first, then the oldest items: 5 + 15 of the original 100 (older has 8)
    assert allocated(build) == {
        ("Resistor", expiring.pk, None): D(5),
        ("Resistor", shop.resistors.pk, None): D(15),
        ("Screw", shop.screws.pk, None): D(44),
    }
    assert older.pk > shop.resistors.pk
    assert result.quantity == D(20)


def test_auto_allocate_prefers_the_part_then_variants_then_substitutes(shop):
    shop.resistor.is_template = True
    shop.resistor.save()
    shop.line_resistor.allow_variants = True
    shop.line_resistor.save()
    substitute = PartFactory(name="AAA substitute")  # sorts first by name: order is by tier
    shop.line_resistor.substitutes.create(part=substitute)
    variant = PartFactory(name="Resistor 1%", variant_of=shop.resistor)
    sub_stock = shop.stock(substitute, 100)
    variant_stock = shop.stock(variant, 6)
    shop.resistors.quantity = 4
    shop.resistors.save()
    build = shop.build()
    build_auto_allocate(build=build, user=shop.user, interchangeable=True)
    assert allocated(build) == {
        ("Resistor", shop.resistors.pk, None): D(4),
        ("Resistor", variant_stock.pk, None): D(6),
        ("Resistor", sub_stock.pk, None): D(10),
        ("Screw", shop.screws.pk, None): D(44),
    }


def test_auto_allocate_skips_tracked_consumable_and_optional_lines(shop):
    chip = PartFactory(name="Chip", trackable=True)
    glue = PartFactory(name="Glue")
    spare = PartFactory(name="Spare")
    shop.widget.trackable = True
    shop.widget.save()
    BomItemFactory(part=shop.widget, sub_part=chip, quantity=1)
    BomItemFactory(part=shop.widget, sub_part=glue, quantity=1, consumable=True)
    BomItemFactory(part=shop.widget, sub_part=spare, quantity=1, optional=True)
    chips, glues, spares = shop.stock(chip, 5), shop.stock(glue, 5), shop.stock(spare, 50)
    build = shop.build(2)
    build_auto_allocate(build=build, user=shop.user)
    assert set(allocated(build)) == {
        ("Resistor", shop.resistors.pk, None),
        ("Screw", shop.screws.pk, None),
    }
    build_auto_allocate(build=build, user=shop.user, optional=True)
    assert allocated(build)[("Spare", spares.pk, None)] == D(2)
    assert not BuildItem.objects.filter(stock_item__in=[chips, glues]).exists()


def test_auto_allocate_ignores_unusable_stock(shop):
    """Serialized items, inactive parts, fully allocated items and stock outside the
    source location are not candidates (so they do not make a line ambiguous)."""
    serialized_part = PartFactory(name="Resistor S")
    shop.line_resistor.substitutes.create(part=serialized_part)
    shop.stock(serialized_part, 1, serial="S1")
    inactive = PartFactory(name="Resistor old", active=False)
    shop.line_resistor.substitutes.create(part=inactive)
    shop.stock(inactive, 50)
    shop.stock(shop.resistor, 40, location=shop.elsewhere)
    taken = shop.stock(shop.resistor, 10)
    allocate(shop, shop.build(5), shop.resistor, taken, 10)
    build = shop.build(take_from=shop.store)
    result = build_auto_allocate(build=build, user=shop.user)
    assert result.ambiguous_lines == []
    assert allocated(build)[("Resistor", shop.resistors.pk, None)] == D(20)


def test_auto_allocate_within_a_chosen_location(shop):
    bin_ = StockLocationFactory(name="Bin", parent=shop.elsewhere)
    near = shop.stock(shop.resistor, 30, location=bin_)
    build = shop.build()
    build_auto_allocate(build=build, user=shop.user, location=shop.elsewhere)
    assert allocated(build) == {("Resistor", near.pk, None): D(20)}


def test_auto_allocate_is_deterministic(shop):
    for quantity in (7, 9, 11):
        shop.stock(shop.resistor, quantity)
    results = []
    for _ in range(2):
        build = shop.build()
        build_auto_allocate(build=build, user=shop.user, interchangeable=True)
        results.append(sorted((k[1], v) for k, v in allocated(build).items() if k[0] == "Resistor"))
    assert results[0] == [(shop.resistors.pk, D(20))]
    assert results[1] == [(shop.resistors.pk, D(20))]


def test_auto_allocate_on_a_cancelled_build_is_refused(shop, refused):
    build = build_order_cancel(build=shop.build(), user=shop.user)
    with refused("cancelled"):
        build_auto_allocate(build=build, user=shop.user)


# -- trim (R45) ---------------------------------------------------------------------------------


def test_trim_reduces_newest_allocations_to_the_requirement(shop):
    build = build_order_set_quantity(build=shop.build(), quantity=15, user=shop.user)  # 30
    first = allocate(shop, build, shop.resistor, shop.resistors, 25)
    extra = shop.stock(shop.resistor, 10)
    second = allocate(shop, build, shop.resistor, extra, 10)  # 35 allocated vs 30 required
    assert build_trim_allocations(build=build, user=shop.user) == D(5)
    assert allocated(build) == {
        ("Resistor", first.stock_item_id, None): D(25),
        ("Resistor", second.stock_item_id, None): D(5),
    }
    assert last_history(BuildItem, second.pk).history_change_reason == "Trimmed 5"
    assert build_trim_allocations(build=build, user=shop.user) == D(0)


def test_trim_after_the_quantity_is_reduced(shop):
    build = shop.build()
    small = shop.stock(shop.resistor, 4)
    allocate(shop, build, shop.resistor, shop.resistors, 16)
    newest = allocate(shop, build, shop.resistor, small, 4)
    build_order_set_quantity(build=build, quantity=5, user=shop.user)  # 10 required, 20 allocated
    assert build_trim_allocations(build=build, user=shop.user) == D(10)
    assert allocated(build) == {("Resistor", shop.resistors.pk, None): D(10)}
    assert last_history(BuildItem, newest.pk).history_type == "-"


def test_trim_leaves_tracked_lines_alone(shop, tracked):
    chip, build, (out1, out2), (c1, c2, batch) = tracked
    allocate(shop, build, chip, c1, 1, output=out1)
    allocate(shop, build, chip, batch, 3, output=out2)
    assert build_trim_allocations(build=build, user=shop.user) == D(0)
    assert allocated(build)[("Chip", batch.pk, out2.pk)] == D(3)
