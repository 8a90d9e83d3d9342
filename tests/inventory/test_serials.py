"""Serial number expressions and the serial rules of the stock item model (R21-R23)."""

import pytest
from django.core.exceptions import ValidationError

from inventory.models import StockItem
from inventory.models.stock import SERIAL_INT_MAX, serial_to_int
from inventory.services.serials import MAX_SERIALS, parse_serials
from tests.factories import PartFactory, StockItemFactory


def serials_error(expression, quantity, **kwargs) -> str:
    with pytest.raises(ValidationError) as excinfo:
        parse_serials(expression, quantity, **kwargs)
    return " ".join(excinfo.value.message_dict["serials"])


def numbers(*ranges) -> list[str]:
    return [str(n) for start, end in ranges for n in range(start, end + 1)]


# --- expressions ------------------------------------------------------------------------


def test_ranges_singles_and_open_end():
    assert parse_serials("1-10, 15, 20+", 13) == numbers((1, 10), (15, 15), (20, 21))


def test_open_end_fills_at_its_position():
    assert parse_serials("20+, 1-3", 5) == ["20", "21", "1", "2", "3"]


def test_n_plus_k_is_n_and_the_k_after_it():
    assert parse_serials("10+3", 4) == ["10", "11", "12", "13"]
    assert parse_serials("5+0", 1) == ["5"]


def test_tilde_is_the_next_serial():
    assert parse_serials("~", 1, next_serial=42) == ["42"]
    assert parse_serials("1, ~", 2, next_serial=7) == ["1", "7"]


def test_single_and_alphanumeric_serials():
    assert parse_serials("A12, B-7x, 0042", 3) == ["A12", "B-7x", "0042"]


def test_spaces_around_terms_and_range_dash_are_ignored():
    assert parse_serials("  1 - 3 ,, 9 + ", 5) == ["1", "2", "3", "9", "10"]


def test_list_input():
    assert parse_serials(["S1", " S2 ", ""], 2) == ["S1", "S2"]


def test_backwards_range_is_refused():
    assert serials_error("10-1", 10) == "Range '10-1' runs backwards."


def test_count_must_equal_quantity():
    assert serials_error("1-5", 4) == (
        "The expression gives 5 serial numbers but the quantity is 4."
    )
    assert serials_error("1, 2", 3) == (
        "The expression gives 2 serial numbers but the quantity is 3."
    )


def test_duplicates_are_refused():
    assert serials_error("1-3, 2, 3", 5) == "Serials repeated in the expression: 2, 3."
    assert serials_error("1+, 3", 4) == "Serials repeated in the expression: 3."


@pytest.mark.parametrize("expression", ["", "  ", " , ,", None, []])
def test_empty_expression_is_refused(expression):
    assert serials_error(expression, 1) == "Enter serial numbers, e.g. 1-10, 15, 20+."


def test_spaces_inside_a_serial_are_refused():
    assert serials_error("A 12", 1) == "'A 12' is not a serial number (no spaces inside serials)."


def test_only_one_open_ended_term():
    assert serials_error("1+, 10+", 5) == "Only one open-ended 'N+' term is allowed."


def test_open_end_that_adds_nothing_is_refused():
    assert serials_error("1-3, 7+", 3) == (
        "'7+' adds nothing: the other terms already give 3 serials."
    )


def test_huge_expressions_are_refused_without_expanding_them():
    assert "too large" in serials_error(f"1-{MAX_SERIALS + 1}", 10)
    assert "too large" in serials_error("1+1000000000", 10)
    assert "At most" in serials_error("1+", 10**9)
    assert parse_serials(f"1-{MAX_SERIALS}", MAX_SERIALS)[-1] == str(MAX_SERIALS)


# --- the model's serial rules (R22, R23) ------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "number"),
    [
        ("123", 123),
        ("SN-0042", 42),
        ("-123", 123),
        ("A1B2", 1),
        ("abc", 0),
        ("", 0),
        ("99999999999999", SERIAL_INT_MAX),
    ],
)
def test_serial_to_int(serial, number):
    assert serial_to_int(serial) == number


@pytest.mark.django_db
def test_serial_int_and_delete_on_deplete_are_set_on_save():
    item = StockItemFactory(
        part=PartFactory(trackable=True), quantity=1, serial="SN-77", delete_on_deplete=True
    )

    item = StockItem.objects.get(pk=item.pk)
    assert (item.serial_int, item.delete_on_deplete, item.is_serialized) == (77, False, True)


@pytest.mark.django_db
def test_blank_serial_is_not_serialized():
    item = StockItemFactory(quantity=1, serial="  ")
    assert item.is_serialized is False


@pytest.mark.django_db
def test_serialized_item_needs_quantity_one():
    item = StockItem(part=PartFactory(trackable=True), quantity=2, serial="5")

    with pytest.raises(ValidationError) as excinfo:
        item.full_clean()
    assert excinfo.value.message_dict["quantity"] == ["A serialized item must have quantity 1."]


@pytest.mark.django_db
def test_serial_is_unique_within_the_variant_family():
    template = PartFactory(name="Template", is_template=True, trackable=True)
    variant_a = PartFactory(name="Variant A", variant_of=template, trackable=True)
    variant_b = PartFactory(name="Variant B", variant_of=template, trackable=True)
    StockItemFactory(part=variant_a, quantity=1, serial="100")

    with pytest.raises(ValidationError) as excinfo:
        StockItem(part=variant_b, quantity=1, serial="100").full_clean()
    assert excinfo.value.message_dict["serial"] == [
        f"Serial number 100 already exists for '{template}' or its variants."
    ]
    # another family may use it
    StockItem(part=PartFactory(trackable=True), quantity=1, serial="100").full_clean()
