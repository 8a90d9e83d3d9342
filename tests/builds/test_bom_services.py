"""BOM services: line rules, recursion, locking, trackability, substitutes, copy, validation.

Every refusal is checked to change nothing (the ``refused`` fixture compares the BOM
tables, their history and the parts' flags before and after).
"""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from builds.choices import BuildStatus
from builds.models import BomItem, BomItemSubstitute, BuildLine
from builds.selectors import bom_checksum, bom_lines, is_bom_valid
from builds.services.bom import (
    bom_copy,
    bom_item_create,
    bom_item_delete,
    bom_item_update,
    bom_propagate_trackable,
    bom_substitute_add,
    bom_substitute_remove,
    bom_validate,
)
from inventory.models import Part
from tests.builds.bom_support import (  # noqa: F401 - fixtures
    D,
    assembly,
    bulk_tree,
    component,
    fast_password_hashing_fixture,
    line,
    refused_fixture,
    user_fixture,
)
from tests.factories import BuildOrderFactory

pytestmark = pytest.mark.django_db


def last_history(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


# ---------------------------------------------------------------------------
# Creating lines: field rules


def test_create_line_records_history_for_the_user(user):
    board, resistor = assembly("Board"), component("Resistor")
    item = line(
        board,
        resistor,
        "2.5",
        user=user,
        reference=" R1, R2 ",
        overage="5%",
        optional=True,
        note="check",
    )
    item.refresh_from_db()
    assert (item.part, item.sub_part, item.quantity) == (board, resistor, D("2.5"))
    assert (item.reference, item.overage, item.optional, item.note) == (
        "R1, R2",
        "5%",
        True,
        "check",
    )
    assert item.validated is False
    record = item.history.first()
    assert record.history_user == user
    assert record.history_change_reason == "Added to BOM"


def test_duplicate_lines_for_the_same_component_are_allowed(user):
    board, resistor = assembly("Board"), component("Resistor")
    line(board, resistor, 1, user=user)
    line(board, resistor, 3, user=user)
    assert board.bom_items.filter(sub_part=resistor).count() == 2


def test_assembly_must_be_an_assembly(user, refused):
    plain, resistor = component("Plain"), component("Resistor")
    with refused("is not an assembly") as excinfo:
        line(plain, resistor, user=user)
    assert "part" in excinfo.value.message_dict


def test_sub_part_must_be_a_component(user, refused):
    board = assembly("Board")
    tool = component("Tool", component=False)
    with refused("is not a component") as excinfo:
        line(board, tool, user=user)
    assert "sub_part" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "greater than zero"),
        (-1, "greater than zero"),
        ("abc", "is not a number"),
        ("1.000001", "at most 5 decimal places"),
    ],
)
def test_quantity_must_be_positive(user, refused, quantity, message):
    board, resistor = assembly("Board"), component("Resistor")
    with refused(message) as excinfo:
        line(board, resistor, quantity, user=user)
    assert "quantity" in excinfo.value.message_dict


@pytest.mark.parametrize("overage", ["abc", "-2", "150%", "%", "5%%"])
def test_overage_must_be_a_quantity_or_a_percentage(user, refused, overage):
    board, resistor = assembly("Board"), component("Resistor")
    with refused() as excinfo:
        line(board, resistor, user=user, overage=overage)
    assert "overage" in excinfo.value.message_dict


@pytest.mark.parametrize("overage", ["7", "2%", " 2.5 % ", "0", "100%"])
def test_overage_accepts_quantities_and_percentages(user, overage):
    item = line(assembly("Board"), component("Resistor"), user=user, overage=overage)
    assert item.overage == overage.strip()


# ---------------------------------------------------------------------------
# Trackable components (R7)


def test_trackable_component_needs_a_whole_quantity(user, refused):
    board, module = assembly("Board"), component("Module", trackable=True)
    with refused("whole number"):
        line(board, module, "21.7", user=user)
    line(board, module, 21, user=user)
    assert board.bom_items.get().quantity == 21


def test_trackable_component_makes_every_assembly_above_trackable(user):
    product, board = assembly("Product"), assembly("Board")
    line(product, board, user=user)
    module = component("Module", trackable=True)
    line(board, module, 1, user=user)
    board.refresh_from_db()
    product.refresh_from_db()
    assert board.trackable and product.trackable
    record = last_history(Part, product.pk)
    assert record.history_user == user
    assert record.history_change_reason == f"Made trackable: its BOM uses trackable '{module}'"


def test_trackable_component_in_a_virtual_assembly_is_refused(user, refused):
    licence = assembly("Licence bundle", virtual=True)
    dongle = component("Dongle", trackable=True)
    with refused("virtual, so it cannot become trackable"):
        line(licence, dongle, 1, user=user)


def test_part_becoming_trackable_later_propagates_upwards(user):
    product, board, chip = assembly("Product"), assembly("Board"), component("Chip")
    line(product, board, user=user)
    line(board, chip, 2, user=user)
    Part.objects.filter(pk=chip.pk).update(trackable=True)
    chip.refresh_from_db()
    bom_propagate_trackable(part=chip, user=user)
    assert Part.objects.filter(pk__in=[product.pk, board.pk], trackable=True).count() == 2


def test_becoming_trackable_is_refused_while_used_in_a_fractional_quantity(user, refused):
    product, board = assembly("Product"), assembly("Board")
    line(product, board, "2.5")
    module = component("Module", trackable=True)
    with refused(re.escape(f"'{product}' uses 2.5 × '{board}', which would become trackable")):
        line(board, module, 1, user=user)


def test_inherited_line_makes_the_variants_trackable_too(user):
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    line(template, component("Core", trackable=True), 1, user=user, inherited=True)
    red.refresh_from_db()
    assert red.trackable


# ---------------------------------------------------------------------------
# Recursion (R11): depth 1, 2 and 5, variant families, substitutes, updates, copy


def test_recursion_depth_1_part_in_its_own_bom(user, refused):
    board = assembly("Board")
    with refused("cannot be used in its own BOM"):
        line(board, board, user=user)


def test_recursion_depth_2(user, refused):
    a, b = assembly("A"), assembly("B")
    line(a, b, user=user)
    with refused("the BOM would contain itself") as excinfo:
        line(b, a, user=user)
    assert excinfo.value.message_dict["sub_part"] == [
        f"'{a}' cannot be used in the BOM of '{b}': the BOM would contain itself: {b} → {a} → {b}."
    ]


def test_recursion_depth_5(user, refused):
    chain = [assembly(f"P{i}") for i in range(1, 6)]
    for upper, lower in zip(chain, chain[1:], strict=False):
        line(upper, lower, user=user)
    with refused("the BOM would contain itself") as excinfo:
        line(chain[-1], chain[0], user=user)
    expected = " → ".join(str(p) for p in [chain[-1], *chain])
    assert expected in excinfo.value.messages[0]
    # any part of the chain, at any depth, is refused too
    for upper in chain[:-1]:
        with refused("the BOM would contain itself"):
            line(chain[-1], upper, user=user)


def test_a_non_recursive_dag_is_accepted(user):
    a, b, c = assembly("A"), assembly("B"), component("C")
    line(a, b, user=user)
    line(b, c, user=user)
    line(a, c, user=user)  # C twice under A: a diamond, not a loop
    assert a.bom_items.count() == 2


def test_variant_of_the_assembly_is_refused(user, refused):
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    with refused("same variant family"):
        line(template, red, user=user)
    with refused("same variant family"):
        line(red, template, user=user)


def test_recursion_through_a_variant_family(user, refused):
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    frame = assembly("Frame")
    line(template, frame, user=user, inherited=True)  # every widget contains a frame
    with refused("same variant family") as excinfo:
        line(frame, red, user=user)  # ... so a frame cannot contain a red widget
    assert f"{frame} → {red} ↔ {template} → {frame}" in excinfo.value.messages[0]


def test_recursion_through_a_deeper_variant_family(user, refused):
    template = assembly("Widget", is_template=True)
    mid = assembly("Widget mk2", is_template=True, variant_of=template)
    deep = assembly("Widget mk2 red", variant_of=mid)
    frame = assembly("Frame")
    line(deep, frame, user=user)
    with refused("same variant family"):
        line(frame, template, user=user)


def test_recursion_through_a_substitute(user, refused):
    a, b, c = assembly("A"), component("B"), assembly("C")
    item = line(a, b, user=user)
    bom_substitute_add(bom_item=item, part=c, user=user)
    with refused("the BOM would contain itself"):
        line(c, a, user=user)


def test_substitute_that_would_make_a_loop_is_refused(user, refused):
    a, b = assembly("A"), component("B")
    c = assembly("C")
    line(c, a, user=user)
    item = line(a, b, user=user)
    with refused("the BOM would contain itself") as excinfo:
        bom_substitute_add(bom_item=item, part=c, user=user)
    assert "part" in excinfo.value.message_dict


def test_update_that_would_make_a_loop_is_refused(user, refused):
    a, b, c = assembly("A"), assembly("B"), component("C")
    line(a, b, user=user)
    lower = line(b, c, user=user)
    with refused("the BOM would contain itself"):
        bom_item_update(bom_item=lower, user=user, sub_part=a)


def test_recursion_check_queries_are_bounded_on_a_deep_wide_bom(
    user, django_assert_max_num_queries
):
    def refused_queries(width, leaves):
        top, tiers = bulk_tree(levels=5, width=width, leaves=leaves)
        with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError):
            bom_item_create(part=tiers[-1][-1], sub_part=top, quantity=1, user=user)
        return top, len(queries)

    _, narrow = refused_queries(width=2, leaves=1)
    top, wide = refused_queries(width=4, leaves=3)
    assert BomItem.objects.count() == (2 + 4 + 8 + 16 + 16) + (4 + 16 + 64 + 256 + 256 * 3)
    # the search walks the 5 levels below the top: one query per level, not per line
    assert narrow == wide <= 16
    extra = component("Extra")
    # + 3 constant queries: open builds of the assembly follow the BOM (R20) in a savepoint;
    # + 1: the change log entry of the new line's history record
    with django_assert_max_num_queries(16):
        bom_item_create(part=top, sub_part=extra, quantity=1, user=user)


# ---------------------------------------------------------------------------
# Locked assemblies (R15)


def test_locked_assembly_refuses_create_update_and_delete(user, refused):
    board, resistor = assembly("Board"), component("Resistor")
    item = line(board, resistor, user=user)
    Part.objects.filter(pk=board.pk).update(locked=True)
    board.refresh_from_db()
    cap, alt, other = component("Cap"), component("Alt"), assembly("Other")
    line(other, cap, user=user)
    with refused("is locked: its BOM cannot be changed"):
        line(board, cap, user=user)
    with refused("is locked"):
        bom_item_update(bom_item=item, user=user, quantity=5)
    with refused("is locked"):
        bom_item_delete(bom_item=item, user=user)
    with refused("is locked"):
        bom_substitute_add(bom_item=item, part=alt, user=user)
    with refused("is locked"):
        bom_copy(source=other, target=board, user=user)


def test_locked_assembly_refuses_removing_substitutes(user, refused):
    board, resistor = assembly("Board"), component("Resistor")
    item = line(board, resistor, user=user)
    substitute = bom_substitute_add(bom_item=item, part=component("Alt"), user=user)
    Part.objects.filter(pk=board.pk).update(locked=True)
    with refused("is locked"):
        bom_substitute_remove(substitute=substitute, user=user)


def test_inherited_line_is_locked_by_a_locked_variant(user, refused):
    template = assembly("Widget", is_template=True)
    assembly("Widget red", variant_of=template, locked=True)
    own = line(template, component("Label"), user=user)  # not inherited: allowed
    screw = component("Screw")
    with refused("inherited by"):
        line(template, screw, user=user, inherited=True)
    with refused("inherited by"):
        bom_item_update(bom_item=own, user=user, inherited=True)
    bom_item_update(bom_item=own, user=user, quantity=2)


def test_unchanged_update_on_a_locked_assembly_is_a_no_op(user):
    board, resistor = assembly("Board"), component("Resistor")
    item = line(board, resistor, 2, user=user)
    Part.objects.filter(pk=board.pk).update(locked=True)
    before = BomItem.history.count()
    bom_item_update(bom_item=item, user=user, quantity=2, note="")
    assert BomItem.history.count() == before


# ---------------------------------------------------------------------------
# Updating and deleting


def test_update_changes_fields_and_records_history(user):
    board, resistor, other = assembly("Board"), component("Resistor"), component("Other")
    item = line(board, resistor, user=user)
    bom_item_update(bom_item=item, user=user, sub_part=other, quantity="4", reference="R9")
    item.refresh_from_db()
    assert (item.sub_part, item.quantity, item.reference) == (other, 4, "R9")
    assert item.history.first().history_change_reason == "BOM line changed"


def test_update_refuses_unknown_fields(user):
    item = line(assembly("Board"), component("Resistor"), user=user)
    with pytest.raises(TypeError):
        bom_item_update(bom_item=item, user=user, part=assembly("Other"))


def test_update_to_a_substitute_of_the_line_is_refused(user, refused):
    item = line(assembly("Board"), component("Resistor"), user=user)
    alt = component("Alt")
    bom_substitute_add(bom_item=item, part=alt, user=user)
    with refused("is a substitute on this line"):
        bom_item_update(bom_item=item, user=user, sub_part=alt)


def test_delete_records_history(user):
    item = line(assembly("Board"), component("Resistor"), user=user)
    pk = item.pk
    bom_item_delete(bom_item=item, user=user)
    assert not BomItem.objects.filter(pk=pk).exists()
    record = last_history(BomItem, pk)
    assert (record.history_type, record.history_user) == ("-", user)


def test_line_used_by_an_active_build_cannot_be_deleted(user, refused):
    board, resistor = assembly("Board"), component("Resistor")
    item = line(board, resistor, user=user)
    build = BuildOrderFactory(part=board, status=BuildStatus.PRODUCTION)
    BuildLine.objects.create(build=build, bom_item=item, quantity=10)
    with refused(f"used by build order {build.reference}"):
        bom_item_delete(bom_item=item, user=user)
    build.status = BuildStatus.COMPLETE
    build.save()
    bom_item_delete(bom_item=item, user=user)


# ---------------------------------------------------------------------------
# Substitutes (R12)


def test_substitutes_add_and_remove(user):
    item = line(assembly("Board"), component("Resistor"), user=user)
    alt = component("Alt")
    substitute = bom_substitute_add(bom_item=item, part=alt, user=user)
    assert list(item.substitutes.values_list("part", flat=True)) == [alt.pk]
    assert substitute.history.first().history_user == user
    bom_substitute_remove(substitute=substitute, user=user)
    assert not item.substitutes.exists()


def test_substitute_rules(user, refused):
    resistor = component("Resistor")
    item = line(assembly("Board"), resistor, user=user)
    alt = component("Alt")
    bom_substitute_add(bom_item=item, part=alt, user=user)
    with refused("already a substitute"):
        bom_substitute_add(bom_item=item, part=alt, user=user)
    with refused("this line's own component"):
        bom_substitute_add(bom_item=item, part=resistor, user=user)
    tool = component("Tool", component=False)
    with refused("is not a component"):
        bom_substitute_add(bom_item=item, part=tool, user=user)


def test_deleting_the_substitute_part_removes_the_link(user):
    item = line(assembly("Board"), component("Resistor"), user=user)
    alt = component("Alt")
    bom_substitute_add(bom_item=item, part=alt, user=user)
    alt.delete()
    assert not BomItemSubstitute.objects.exists()
    assert BomItem.objects.filter(pk=item.pk).exists()


# ---------------------------------------------------------------------------
# Copy (R18)


def test_copy_bom_with_substitutes(user):
    source, target = assembly("Board v1"), assembly("Board v2")
    resistor, cap, alt = component("Resistor"), component("Cap"), component("Alt")
    first = line(source, resistor, 4, user=user, reference="R1-R4", overage="1", optional=True)
    line(source, cap, 2, user=user, consumable=True, allow_variants=True, note="x")
    bom_substitute_add(bom_item=first, part=alt, user=user)
    created = bom_copy(source=source, target=target, user=user)
    assert len(created) == 2
    copied = target.bom_items.order_by("sub_part__name")
    fields = ["sub_part", "quantity", "reference", "overage", "optional", "consumable"]
    assert [tuple(getattr(i, f) for f in fields) for i in copied] == [
        (cap, 2, "", "", False, True),
        (resistor, 4, "R1-R4", "1", True, False),
    ]
    copy_of_first = copied.get(sub_part=resistor)
    assert list(copy_of_first.substitutes.values_list("part", flat=True)) == [alt.pk]
    assert copy_of_first.history.first().history_user == user
    assert source.bom_items.count() == 2  # the source is untouched


def test_copy_without_substitutes_and_with_clear(user):
    source, target = assembly("Board v1"), assembly("Board v2")
    item = line(source, component("Resistor"), user=user)
    bom_substitute_add(bom_item=item, part=component("Alt"), user=user)
    old = line(target, component("Old"), user=user)
    bom_copy(source=source, target=target, user=user, include_substitutes=False, clear=True)
    assert not BomItem.objects.filter(pk=old.pk).exists()
    assert target.bom_items.get().substitutes.count() == 0


def test_copy_includes_inherited_lines_only_when_asked(user):
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    line(template, component("Frame"), user=user, inherited=True)
    line(red, component("Red paint"), user=user)
    target = assembly("Gadget")
    bom_copy(source=red, target=target, user=user)
    assert [i.sub_part.name for i in target.bom_items.all()] == ["Red paint"]
    other = assembly("Gadget 2")
    bom_copy(source=red, target=other, user=user, include_inherited=True)
    assert sorted(i.sub_part.name for i in other.bom_items.all()) == ["Frame", "Red paint"]


def test_clear_never_deletes_inherited_lines(user):
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    inherited = line(template, component("Frame"), user=user, inherited=True)
    source = assembly("Source")
    line(source, component("Bolt"), user=user)
    bom_copy(source=source, target=red, user=user, clear=True)
    assert BomItem.objects.filter(pk=inherited.pk).exists()
    assert sorted(i.sub_part.name for i in bom_lines(red)) == ["Bolt", "Frame"]


def test_copy_refusals_change_nothing(user, refused):
    source, target = assembly("Source"), assembly("Target")
    with refused("no BOM lines to copy"):
        bom_copy(source=source, target=target, user=user)
    line(source, component("Bolt"), user=user)
    line(source, target, user=user)  # target is inside source: copying would loop
    with refused(re.escape(f"'{target}' cannot be used in its own BOM")):
        bom_copy(source=source, target=target, user=user)
    outer, inner = assembly("Outer"), assembly("Inner")
    line(inner, target, user=user)
    line(outer, inner, user=user)  # Outer ⊃ Inner ⊃ Target: Inner cannot go into Target
    with refused(re.escape(f"{target} → {inner} → {target}")):
        bom_copy(source=outer, target=target, user=user)
    with refused("onto itself"):
        bom_copy(source=source, target=source, user=user)
    plain = component("Plain")
    with refused("is not an assembly"):
        bom_copy(source=source, target=plain, user=user)


def test_copy_refused_when_a_substitute_would_loop(user, refused):
    source, target = assembly("Source"), assembly("Target")
    item = line(source, component("Bolt"), user=user)
    bom_substitute_add(bom_item=item, part=target, user=user)
    with refused(re.escape(f"'{target}' cannot be used in its own BOM")):
        bom_copy(source=source, target=target, user=user)


def test_copy_of_trackable_lines_makes_the_target_trackable(user):
    source, target = assembly("Source"), assembly("Target")
    line(source, component("Module", trackable=True), 2, user=user)
    bom_copy(source=source, target=target, user=user)
    target.refresh_from_db()
    assert target.trackable


# ---------------------------------------------------------------------------
# Validation checksum (R14)


def test_line_hash_changes_with_quantity(user):
    item = line(assembly("Board"), component("Resistor"), 1, user=user)
    before = item.line_hash()
    item.quantity = Decimal(2)
    assert item.line_hash() != before
    item.quantity = Decimal("1.00000")
    assert item.line_hash() == before  # normalised: 1 == 1.00000


def test_validate_bom_stores_checksum_who_and_when(user):
    board = assembly("Board")
    item = line(board, component("Resistor"), 2, user=user)
    assert not is_bom_valid(board)
    checksum = bom_validate(part=board, user=user)
    board.refresh_from_db()
    item.refresh_from_db()
    assert board.bom_checksum == checksum == bom_checksum(board)
    assert board.bom_checked_by == user and board.bom_checked_date is not None
    assert is_bom_valid(board) and item.validated
    record = last_history(Part, board.pk)
    assert (record.history_user, record.history_change_reason) == (user, "BOM validated")


@pytest.mark.parametrize(
    ("change", "still_valid"),
    [
        ({"quantity": 3}, False),
        ({"reference": "R7"}, False),
        ({"optional": True}, False),
        ({"consumable": True}, False),
        ({"allow_variants": True}, False),
        ({"inherited": True}, False),
        ({"note": "just a note"}, True),
        ({"overage": "5%"}, True),
    ],
)
def test_key_field_changes_unvalidate_the_bom(user, change, still_valid):
    board = assembly("Board")
    item = line(board, component("Resistor"), 2, user=user)
    bom_validate(part=board, user=user)
    bom_item_update(bom_item=item, user=user, **change)
    board.refresh_from_db()
    item.refresh_from_db()
    assert is_bom_valid(board) is still_valid
    assert item.validated is still_valid


def test_changing_the_component_unvalidates_the_bom(user):
    board = assembly("Board")
    item = line(board, component("Resistor"), 2, user=user)
    bom_validate(part=board, user=user)
    bom_item_update(bom_item=item, user=user, sub_part=component("Other"))
    board.refresh_from_db()
    assert not is_bom_valid(board)


def test_adding_or_removing_a_line_unvalidates_the_bom(user):
    board = assembly("Board")
    item = line(board, component("Resistor"), 2, user=user)
    bom_validate(part=board, user=user)
    extra = line(board, component("Cap"), 1, user=user)
    board.refresh_from_db()
    assert not is_bom_valid(board)
    bom_item_delete(bom_item=extra, user=user)
    assert is_bom_valid(board)  # back to the validated content
    bom_item_delete(bom_item=item, user=user)
    assert is_bom_valid(board)  # no BOM at all counts as valid (R14)
    line(board, component("Cap 2"), 1, user=user)
    assert not is_bom_valid(board)


def test_template_change_unvalidates_the_variant_bom(user):
    template = assembly("Widget", is_template=True)
    red = assembly("Widget red", variant_of=template)
    inherited = line(template, component("Frame"), user=user, inherited=True)
    line(red, component("Paint"), user=user)
    bom_validate(part=red, user=user)
    red.refresh_from_db()
    assert is_bom_valid(red)
    bom_item_update(bom_item=inherited, user=user, quantity=2)
    assert not is_bom_valid(red)


def test_validate_refuses_non_assemblies(user, refused):
    plain = component("Plain")
    with refused("is not an assembly"):
        bom_validate(part=plain, user=user)


def test_validating_a_locked_bom_is_allowed(user):
    board = assembly("Board")
    line(board, component("Resistor"), user=user)
    Part.objects.filter(pk=board.pk).update(locked=True)
    bom_validate(part=board, user=user)
    board.refresh_from_db()
    assert is_bom_valid(board)
