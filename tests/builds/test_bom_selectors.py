"""BOM selectors: can-build, explosion, required quantities, allocation helpers — exact figures
and bounded query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from builds.choices import BuildStatus
from builds.models import BomItem, BuildItem, BuildLine
from builds.selectors import (
    BomLine,
    PartRef,
    allocated_quantities,
    available_quantities,
    bom_lines,
    bom_overview,
    can_build,
    can_build_many,
    explode_bom,
    required_quantity,
    valid_allocation_part_ids,
    where_used,
)
from builds.services.bom import bom_substitute_add, bom_validate
from inventory.choices import StockStatus
from inventory.models import Part
from tests.builds.bom_support import (  # noqa: F401 - fixtures
    D,
    assembly,
    bulk_tree,
    component,
    fast_password_hashing_fixture,
    line,
    stock,
    user_fixture,
)
from tests.factories import BuildOrderFactory

pytestmark = pytest.mark.django_db


def allocate(item, quantity, status=BuildStatus.PRODUCTION):
    """Allocate ``quantity`` of stock ``item`` to a build in ``status`` (rows written directly)."""
    board = assembly(f"Build target {BuildOrderFactory._meta.model.objects.count()}")
    bom_item = BomItem.objects.create(part=board, sub_part=item.part, quantity=1)
    build = BuildOrderFactory(part=board, status=status)
    build_line = BuildLine.objects.create(build=build, bom_item=bom_item, quantity=quantity)
    return BuildItem.objects.create(build_line=build_line, stock_item=item, quantity=quantity)


# ---------------------------------------------------------------------------
# can_build (R17)


def test_can_build_figures_from_the_issue():
    board = assembly("Board")
    c1, c2, c3 = component("C1"), component("C2"), component("C3")
    for part in (c1, c2, c3):
        stock(part, 1000)
    assert can_build(board) == 0  # no BOM yet
    line(board, c1, 10)
    assert can_build(board) == 100
    line(board, c2, 50, consumable=True)
    assert can_build(board) == 100  # consumable lines are ignored
    line(board, c3, 50)
    assert can_build(board) == 20


def test_only_consumable_lines_means_nothing_to_build():
    board = assembly("Board")
    glue = component("Glue")
    stock(glue, 1000)
    line(board, glue, 1, consumable=True)
    assert can_build(board) == 0


def test_can_build_rounds_down_and_ignores_overage():
    board, resistor = assembly("Board"), component("Resistor")
    stock(resistor, 999)
    line(board, resistor, 10, overage="50%")
    assert can_build(board) == 99


def test_optional_lines_count():
    board, resistor, extra = assembly("Board"), component("Resistor"), component("Extra")
    stock(resistor, 100)
    stock(extra, 30)
    line(board, resistor, 10)
    line(board, extra, 10, optional=True)
    assert can_build(board) == 3


def test_only_in_stock_items_count():
    board, resistor = assembly("Board"), component("Resistor")
    stock(resistor, 100)
    stock(resistor, 500, status=StockStatus.DESTROYED)
    stock(resistor, 500, status=StockStatus.QUARANTINED)
    line(board, resistor, 10)
    assert can_build(board) == 10


def test_substitute_stock_counts(user):
    board, resistor, alt = assembly("Board"), component("Resistor"), component("Alt")
    stock(resistor, 30)
    stock(alt, 20)
    item = line(board, resistor, 10)
    assert can_build(board) == 3
    bom_substitute_add(bom_item=item, part=alt, user=user)
    assert can_build(board) == 5


def test_variant_stock_counts_only_when_allowed():
    board = assembly("Board")
    template = component("Resistor", is_template=True)
    small = component("Resistor 0402", variant_of=template)
    large = component("Resistor 0805", variant_of=template)
    tiny = component("Resistor 0201", variant_of=small)  # a variant of a variant
    tracked = component("Resistor tracked", variant_of=template, trackable=True)
    stock(small, 40)
    stock(large, 50)
    stock(tiny, 10)
    stock(tracked, 1000)  # R13: different trackable flag, never counted
    item = line(board, template, 10)
    assert can_build(board) == 0
    BomItem.objects.filter(pk=item.pk).update(allow_variants=True)
    assert can_build(board) == 10


def test_allocations_to_active_builds_are_subtracted():
    board, resistor = assembly("Board"), component("Resistor")
    first = stock(resistor, 600)
    second = stock(resistor, 400)
    line(board, resistor, 10)
    allocate(first, 300)
    assert can_build(board) == 70
    allocate(second, 100, status=BuildStatus.ON_HOLD)
    assert can_build(board) == 60
    allocate(second, 200, status=BuildStatus.COMPLETE)  # finished: no longer holds stock
    allocate(second, 50, status=BuildStatus.CANCELLED)
    assert can_build(board) == 60


def test_allocations_on_items_not_in_stock_are_not_subtracted_twice():
    board, resistor = assembly("Board"), component("Resistor")
    stock(resistor, 100)
    gone = stock(resistor, 100, status=StockStatus.LOST)
    line(board, resistor, 10)
    allocate(gone, 100)
    assert can_build(board) == 10


def test_duplicate_lines_share_the_stock():
    board, resistor = assembly("Board"), component("Resistor")
    stock(resistor, 100)
    line(board, resistor, 10)
    line(board, resistor, 10)
    assert can_build(board) == 5


def test_inherited_lines_count_for_variants():
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    frame, label = component("Frame"), component("Label")
    stock(frame, 10)
    line(template, frame, 2, inherited=True)
    line(template, label, 1)  # not inherited: only the template needs a label
    assert [i.sub_part for i in bom_lines(red)] == [frame]
    assert can_build(red) == 5
    assert can_build(template) == 0


def test_sub_assemblies_count_with_their_own_stock():
    product, board, resistor = assembly("Product"), assembly("Board"), component("Resistor")
    stock(resistor, 1000)
    line(board, resistor, 10)
    line(product, board, 2)
    assert can_build(product) == 0  # one level deep: no boards in stock
    stock(board, 7)
    assert can_build(product) == 3


def test_can_build_many_matches_and_uses_constant_queries():
    def make(n):
        parts = []
        for i in range(n):
            board, resistor = assembly(f"Board {n}-{i}"), component(f"R {n}-{i}")
            stock(resistor, 100 * (i + 1))
            line(board, resistor, 10)
            parts.append(board)
        return parts

    few, many = make(3), make(30)
    with CaptureQueriesContext(connection) as few_queries:
        figures = can_build_many(few)
    with CaptureQueriesContext(connection) as many_queries:
        many_figures = can_build_many(many)
    assert figures == {p.pk: 10 * (i + 1) for i, p in enumerate(few)}
    assert many_figures[many[29].pk] == 300
    assert len(few_queries) == len(many_queries) <= 6
    assert can_build_many([p.pk for p in few]) == figures  # ids work too


# ---------------------------------------------------------------------------
# Required quantity (R16)


@pytest.mark.parametrize(
    ("quantity", "overage", "build", "expected"),
    [
        ("3", "", 10, "30"),
        ("3", "7", 10, "37"),  # absolute: once per build
        ("3", "10%", 10, "33"),
        ("3", "150%", 10, "60"),  # clamped to 100 %
        ("3", "-5%", 10, "30"),  # not an overage: none
        ("3", "abc", 10, "30"),
        ("0.33333", "2%", 3, "1.01999"),  # 0.99999 + 0.0199998, rounded up to 5 places
    ],
)
def test_required_quantity(quantity, overage, build, expected):
    item = BomItem(quantity=D(quantity), overage=overage)
    assert required_quantity(item, build) == D(expected)


# ---------------------------------------------------------------------------
# Explosion


@pytest.fixture
def product():
    """Product ⊃ Board ⊃ Chip ⊃ Die; glue (consumable) and screws at two levels."""
    product, board, chip = assembly("Product"), assembly("Board"), assembly("Chip")
    die, resistor, glue, screw = (
        component("Die"),
        component("Resistor"),
        component("Glue"),
        component("Screw"),
    )
    line(product, board, 2, overage="1")
    line(product, glue, "0.5", consumable=True)
    line(product, screw, 4)
    line(board, resistor, 10, overage="10%")
    line(board, screw, 2)
    line(board, chip, 1, optional=True)
    line(chip, die, 2)
    return product


def test_explosion_rows_in_tree_order_with_overages(product):
    explosion = explode_bom(product, 2)
    rows = [
        (r.level, r.part.name, r.quantity_per, r.quantity, r.optional, r.consumable, r.expanded)
        for r in explosion.rows
    ]
    assert rows == [
        (1, "Board", D(2), D(5), False, False, True),  # 2 × 2 + 1
        (2, "Chip", D(1), D(5), True, False, True),
        (3, "Die", D(2), D(10), True, False, False),  # optional: inherited from Chip's line
        (2, "Resistor", D(10), D(55), False, False, False),  # 10 × 5 + 10 %
        (2, "Screw", D(2), D(10), False, False, False),
        (1, "Glue", D("0.5"), D(1), False, True, False),
        (1, "Screw", D(4), D(8), False, False, False),
    ]
    assert [r.path_names for r in explosion.rows][2] == ("Product", "Board", "Chip", "Die")
    assert explosion.depth == 3


def test_explosion_rolls_up_leaves(product):
    explosion = explode_bom(product, 2)
    leaves = [
        (leaf.part.name, leaf.quantity, leaf.optional, leaf.consumable, leaf.lines)
        for leaf in explosion.leaves
    ]
    assert leaves == [
        ("Die", D(10), True, False, 1),
        ("Glue", D(1), False, True, 1),
        ("Resistor", D(55), False, False, 1),
        ("Screw", D(18), False, False, 2),  # 10 under the board + 8 directly
    ]


def test_explosion_of_one_unit(product):
    explosion = explode_bom(product)
    assert {leaf.part.name: leaf.quantity for leaf in explosion.leaves} == {
        "Die": D(6),  # board: 2 + 1 = 3; chip 3; die 6
        "Glue": D("0.5"),
        "Resistor": D(33),  # 10 × 3 + 10 %
        "Screw": D(10),  # 2 × 3 + 4
    }


def test_explosion_includes_inherited_lines():
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    line(template, component("Frame"), 1, inherited=True)
    line(red, component("Paint"), 2)
    explosion = explode_bom(red, 3)
    assert [(r.part.name, r.quantity, r.inherited_from) for r in explosion.rows] == [
        ("Frame", D(3), PartRef.of(template)),
        ("Paint", D(6), None),
    ]


def test_explosion_includes_inherited_lines_of_a_variant_sub_assembly():
    """Inherited lines of a variant two levels down (its template loaded for its name)."""
    top = assembly("Top")
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    line(top, red, 2)
    line(template, component("Frame"), 1, inherited=True)
    line(template, component("Template only"), 1)  # not inherited: not in the variant's BOM
    line(red, component("Paint"), "0.5")
    rows = [
        (r.level, r.part.name, r.quantity, r.inherited_from and str(r.inherited_from))
        for r in explode_bom(top, 3).rows
    ]
    assert rows == [
        (1, "Widget red", D(6), None),
        (2, "Frame", D(6), str(template)),
        (2, "Paint", D(3), None),
    ]


def test_explosion_survives_a_loop_in_bad_data():
    a, b = assembly("A"), assembly("B")
    BomItem.objects.bulk_create([BomItem(part=a, sub_part=b), BomItem(part=b, sub_part=a)])
    rows = explode_bom(a).rows
    assert [(r.part.name, r.expanded, r.recursive) for r in rows] == [
        ("B", True, False),
        ("A", False, True),
    ]


def test_explosion_queries_do_not_grow_with_width():
    narrow, _ = bulk_tree(levels=4, width=2, leaves=2)
    with CaptureQueriesContext(connection) as narrow_queries:
        narrow_rows = explode_bom(narrow, 1).rows
    BomItem.objects.all().delete()
    wide, _ = bulk_tree(levels=4, width=6, leaves=5)
    with CaptureQueriesContext(connection) as wide_queries:
        wide_rows = explode_bom(wide, 1).rows
    assert len(narrow_rows) == 2 + 4 + 8 + 16
    assert len(wide_rows) == 6 + 36 + 216 + 216 * 5
    # per level: one query for the lines, one for the parts they use (each loaded once)
    assert len(narrow_queries) == len(wide_queries) == 2 * 4


# ---------------------------------------------------------------------------
# Allocation helpers (for build orders)


def test_allocated_quantities_count_active_builds_on_in_stock_items():
    resistor, cap = component("Resistor"), component("Cap")
    item = stock(resistor, 100)
    lost = stock(resistor, 100, status=StockStatus.LOST)
    allocate(item, 30)
    allocate(item, 5, status=BuildStatus.PENDING)
    allocate(item, 7, status=BuildStatus.COMPLETE)
    allocate(lost, 50)
    assert allocated_quantities([resistor.pk, cap.pk]) == {resistor.pk: D(35)}
    assert available_quantities([resistor.pk, cap.pk]) == {resistor.pk: D(65), cap.pk: D(0)}


def test_valid_allocation_parts(user):
    board = assembly("Board")
    template = component("Resistor", is_template=True)
    variant = component("Resistor 0402", variant_of=template)
    component("Resistor tracked", variant_of=template, trackable=True)
    alt, tracked_alt = component("Alt"), component("Alt tracked", trackable=True)
    item = line(board, template, 1)
    bom_substitute_add(bom_item=item, part=alt, user=user)
    bom_substitute_add(bom_item=item, part=tracked_alt, user=user)
    assert valid_allocation_part_ids(item) == {template.pk, alt.pk}
    item.allow_variants = True
    item.save()
    assert valid_allocation_part_ids(item) == {template.pk, alt.pk, variant.pk}


def test_where_used_includes_variants_and_substitutes(user):
    template = component("Resistor", is_template=True)
    variant = component("Resistor 0402", variant_of=template)
    direct = line(assembly("Direct"), variant, 1)
    via_template = line(assembly("Via template"), template, 1, allow_variants=True)
    line(assembly("Template only"), template, 1)  # no variants allowed: not a use
    other = line(assembly("Other"), component("Other"), 1)
    bom_substitute_add(bom_item=other, part=variant, user=user)
    assert set(where_used(variant)) == {direct, via_template, other}


def test_bom_overview(user):
    board, resistor = assembly("Board"), component("Resistor")
    empty = assembly("Empty")
    stock(resistor, 55)
    line(board, resistor, 5)
    parts = list(Part.objects.filter(pk__in=[board.pk, empty.pk]))
    overview = bom_overview(parts)
    assert (overview[board.pk].lines, overview[board.pk].is_valid) == (1, False)
    assert overview[board.pk].can_build == 11
    assert (overview[empty.pk].lines, overview[empty.pk].is_valid) == (0, True)
    bom_validate(part=board, user=user)
    board.refresh_from_db()
    assert bom_overview([board])[board.pk].is_valid


def test_quantities_are_decimals():
    board, resistor = assembly("Board"), component("Resistor")
    line(board, resistor, "0.25")
    explosion = explode_bom(board, 3)
    assert explosion.leaves[0].quantity == Decimal("0.75")


def test_explosion_rows_carry_the_lines_and_parts_values(product):
    """Rows hold ``BomLine`` / ``PartRef`` values (not model instances): the same figures
    and names as the models, and nothing loaded on access."""
    explosion = explode_bom(product, 2)
    with CaptureQueriesContext(connection) as queries:
        for row in explosion.rows:
            item = BomItem.objects.get(pk=row.bom_item.pk)
            part = Part.objects.get(pk=row.part.pk)
            assert row.bom_item == BomLine(*(getattr(item, f) for f in BomLine._fields))
            assert row.part == PartRef.of(part)
            assert str(row.part) == str(part) and row.part.id == part.pk
            assert isinstance(row.quantity, Decimal) and isinstance(row.bom_item.quantity, Decimal)
    assert len(queries) == 2 * len(explosion.rows)  # only the two reads of this test
    assert str(explosion.leaves[0].part) == str(Part.objects.get(name="Die"))


def test_explosion_rows_and_leaves_read_like_lists(product):
    """``rows`` / ``leaves`` make their items when read; length, indexes (also negative),
    slices (what the BOM page's pages take) and iteration agree."""
    explosion = explode_bom(product, 2)
    rows = list(explosion.rows)
    assert len(explosion.rows) == len(rows) == 7
    assert explosion.rows[0] == rows[0] and explosion.rows[-1] == rows[-1]
    assert explosion.rows[2:5] == rows[2:5]
    assert explosion.rows[10:20] == []
    assert [leaf.part.name for leaf in explosion.leaves[1:3]] == ["Glue", "Resistor"]
    with pytest.raises(IndexError):
        explosion.rows[7]
    assert explode_bom(component("Loose")).rows[:] == []


def test_explosion_leaves_the_garbage_collector_as_it_found_it(product, monkeypatch):
    import gc

    from builds.selectors import bom as bom_selectors

    assert gc.isenabled()
    explode_bom(product)
    assert gc.isenabled()
    gc.disable()
    try:
        explode_bom(product)
        assert not gc.isenabled()  # not switched on behind the caller's back
    finally:
        gc.enable()

    def broken(*args):
        assert not gc.isenabled()  # paused during the walk
        raise RuntimeError("walk failed")

    monkeypatch.setattr(bom_selectors, "_explode", broken)
    with pytest.raises(RuntimeError):
        explode_bom(product)
    assert gc.isenabled()
