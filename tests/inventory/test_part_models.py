"""Part, parameter template and parameter validation (R2, R3, R5, R6, R10)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory.models import Part, PartParameter, PartParameterTemplate
from inventory.models.parts import parse_number
from tests.factories import (
    PartCategoryFactory,
    PartFactory,
    PartParameterFactory,
    PartParameterTemplateFactory,
)

pytestmark = pytest.mark.django_db


def errors_of(obj) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        obj.full_clean()
    return excinfo.value.message_dict


def new_part(**fields) -> Part:
    fields.setdefault("category", PartCategoryFactory())
    return Part(**fields)


# --- IPN and natural key (R2, R3) -------------------------------------------------------


def test_ipn_is_unique_ignoring_case():
    PartFactory(name="First", ipn="RES-001")

    errors = errors_of(new_part(name="Second", ipn="res-001"))
    assert errors["__all__"] == ["Another part already uses this IPN."]


def test_ipn_is_stripped_before_the_uniqueness_check():
    PartFactory(name="First", ipn="RES-001")
    part = new_part(name="Second", ipn="  RES-001  ")

    errors = errors_of(part)
    assert part.ipn == "RES-001"
    assert errors["__all__"] == ["Another part already uses this IPN."]


def test_ipn_case_insensitive_uniqueness_is_enforced_by_the_database():
    PartFactory(name="First", ipn="RES-001")

    with pytest.raises(IntegrityError), transaction.atomic():
        PartFactory(name="Second", ipn="Res-001")


def test_blank_ipn_is_allowed_many_times():
    for name in ("One", "Two", "Three"):
        part = new_part(name=name, ipn="")
        part.full_clean()
        part.save()
    assert Part.objects.filter(ipn="").count() == 3


def test_an_edited_part_does_not_clash_with_itself():
    part = PartFactory(name="Keep", ipn="KEEP-1")
    part.description = "changed"
    part.full_clean()


def test_name_ipn_revision_is_unique():
    PartFactory(name="Widget", ipn="", revision="A")

    errors = errors_of(new_part(name="Widget", ipn="", revision="A"))
    assert errors["__all__"] == ["A part with this name, IPN and revision already exists."]

    new_part(name="Widget", ipn="", revision="B").full_clean()
    new_part(name="Widget", ipn="W-2", revision="A").full_clean()


def test_minimum_stock_cannot_be_negative():
    errors = errors_of(new_part(name="Negative", minimum_stock=-1))
    assert "minimum_stock" in errors


# --- variants (R6) ----------------------------------------------------------------------


def test_variant_of_must_be_a_template():
    plain = PartFactory(name="Plain", is_template=False)

    errors = errors_of(new_part(name="Variant", variant_of=plain))
    assert f"'{plain}' is not a template part, so it cannot have variants." in errors["variant_of"]

    template = PartFactory(name="Template", is_template=True)
    new_part(name="Variant", variant_of=template).full_clean()


def test_part_cannot_be_variant_of_itself():
    template = PartFactory(name="Template", is_template=True)

    template.variant_of = template
    assert errors_of(template)["variant_of"] == ["A part cannot be a variant of itself."]


def test_variant_loop_is_refused():
    top = PartFactory(name="Top", is_template=True)
    middle = PartFactory(name="Middle", is_template=True, variant_of=top)
    bottom = PartFactory(name="Bottom", is_template=True, variant_of=middle)

    top.variant_of = bottom
    errors = errors_of(top)
    assert errors["variant_of"] == [
        f"'{bottom}' is itself a variant of this part: that would make a loop."
    ]


def test_variant_family_is_the_root_template():
    top = PartFactory(name="Top", is_template=True)
    middle = PartFactory(name="Middle", is_template=True, variant_of=top)
    leaf = PartFactory(name="Leaf", variant_of=middle)

    assert leaf.variant_family() == top
    assert top.variant_family() == top


# --- revisions (R5) ---------------------------------------------------------------------


@pytest.fixture
def original():
    return PartFactory(name="Board", ipn="", revision="")


def test_valid_revision(original):
    new_part(name="Board", revision="B", revision_of=original).full_clean()


def test_revision_cannot_be_of_itself(original):
    original.revision = "A"
    original.revision_of = original
    assert errors_of(original)["revision_of"] == ["A part cannot be a revision of itself."]


def test_revision_of_a_revision_is_refused(original):
    rev_b = PartFactory(name="Board", ipn="", revision="B", revision_of=original)

    errors = errors_of(new_part(name="Board", revision="C", revision_of=rev_b))
    assert errors["revision_of"] == [f"'{rev_b}' is itself a revision; choose the original part."]


def test_part_with_revisions_cannot_become_a_revision(original):
    PartFactory(name="Board", ipn="", revision="B", revision_of=original)
    other = PartFactory(name="Other board", ipn="")

    original.revision = "X"
    original.revision_of = other
    assert errors_of(original)["revision_of"] == [
        "This part has revisions of its own, so it cannot be a revision of another part."
    ]


def test_template_cannot_have_revisions():
    template = PartFactory(name="Template", is_template=True)

    errors = errors_of(new_part(name="Template", revision="B", revision_of=template))
    assert errors["revision_of"] == ["Template parts cannot have revisions."]


def test_revision_code_is_required(original):
    errors = errors_of(new_part(name="Board", revision="", revision_of=original, ipn="B-2"))
    assert errors["revision"] == ["A revision code is required for a revision of another part."]


def test_revision_must_share_variant_of():
    template = PartFactory(name="Template", is_template=True)
    variant = PartFactory(name="Variant", variant_of=template)

    errors = errors_of(new_part(name="Variant", revision="B", revision_of=variant))
    assert errors["revision_of"] == [
        "A revision must be a variant of the same template as the original."
    ]
    new_part(name="Variant", revision="B", revision_of=variant, variant_of=template).full_clean()


def test_revision_code_is_unique_among_revisions(original):
    PartFactory(name="Board", ipn="BRD-B", revision="B", revision_of=original)

    errors = errors_of(new_part(name="Board", ipn="BRD-B2", revision="B", revision_of=original))
    assert errors["revision"] == [f"Revision 'B' of '{original}' already exists."]


def test_virtual_part_cannot_be_trackable():
    errors = errors_of(new_part(name="Licence", virtual=True, trackable=True))
    assert errors["trackable"] == ["Virtual parts hold no stock, so they cannot be trackable."]
    new_part(name="Licence", virtual=True).full_clean()


def test_str_joins_ipn_name_revision():
    assert str(PartFactory(name="Board", ipn="BRD", revision="C")) == "BRD | Board | C"
    assert str(PartFactory(name="Bare", ipn="")) == "Bare"


# --- parameter templates (R10) ----------------------------------------------------------


def test_template_choices_must_not_repeat():
    template = PartParameterTemplate(name="Package", choices="0402, 0603, 0402")
    assert errors_of(template)["choices"] == ["Choices must not repeat."]

    template.choices = "SMD, smd"
    assert errors_of(template)["choices"] == ["Choices must not repeat."]

    template.choices = "0402, 0603, 0805"
    template.full_clean()
    assert template.choice_list() == ["0402", "0603", "0805"]


@pytest.mark.parametrize("extra", [{"units": "V"}, {"choices": "yes,no"}])
def test_checkbox_template_cannot_have_units_or_choices(extra):
    template = PartParameterTemplate(name="RoHS", checkbox=True, **extra)
    assert errors_of(template)["checkbox"] == ["Checkbox parameters cannot have units or choices."]


def test_template_names_are_unique_ignoring_case():
    PartParameterTemplateFactory(name="Resistance")

    errors = errors_of(PartParameterTemplate(name="RESISTANCE"))
    assert errors["__all__"] == ["A parameter template with this name already exists."]


# --- parameter values (R10) -------------------------------------------------------------


def test_parameter_value_must_be_one_of_the_choices():
    template = PartParameterTemplateFactory(name="Package", units="", choices="0402,0603")
    part = PartFactory()

    errors = errors_of(PartParameter(part=part, template=template, data="0805"))
    assert errors["data"] == ["'0805' is not one of the allowed values: 0402, 0603."]

    ok = PartParameter(part=part, template=template, data=" 0603 ")
    ok.full_clean()
    assert ok.data == "0603"


@pytest.mark.parametrize(
    ("given", "stored"),
    [("yes", "True"), ("1", "True"), ("TRUE", "True"), ("on", "True")]
    + [("no", "False"), ("0", "False"), ("False", "False"), ("OFF", "False")],
)
def test_checkbox_values_are_coerced(given, stored):
    template = PartParameterTemplateFactory(name="RoHS", units="", checkbox=True)
    parameter = PartParameter(part=PartFactory(), template=template, data=given)

    parameter.full_clean()
    parameter.save()

    assert PartParameter.objects.get(pk=parameter.pk).data == stored


def test_checkbox_refuses_other_values():
    template = PartParameterTemplateFactory(name="RoHS", units="", checkbox=True)

    errors = errors_of(PartParameter(part=PartFactory(), template=template, data="maybe"))
    assert errors["data"] == ["'maybe' is not a true/false value."]


@pytest.mark.parametrize(
    ("data", "numeric"),
    [
        ("12.5", 12.5),
        (" -3 ", -3.0),
        ("1e3", 1000.0),
        ("1,000", 1000.0),
        ("12,345.5", 12345.5),
        ("4,7", None),  # a decimal comma is not a thousands separator
        ("abc", None),
        ("10k", None),
        ("inf", None),
        ("-Infinity", None),
        ("nan", None),
        ("1e999", None),
        ("", None),
    ],
)
def test_data_numeric_is_computed_on_save(data, numeric):
    parameter = PartParameterFactory(data=data)

    assert PartParameter.objects.get(pk=parameter.pk).data_numeric == numeric
    assert parse_number(data) == numeric


def test_data_numeric_follows_edits():
    parameter = PartParameterFactory(data="100")
    parameter.data = "not a number"
    parameter.save()

    assert PartParameter.objects.get(pk=parameter.pk).data_numeric is None


def test_locked_part_refuses_new_parameters():
    part = PartFactory(name="Frozen", locked=True)

    with pytest.raises(ValidationError, match="is locked: its parameters cannot be changed"):
        PartParameter(part=part, template=PartParameterTemplateFactory(), data="1").full_clean()


def test_locked_part_refuses_parameter_edits():
    parameter = PartParameterFactory(data="1")
    Part.objects.filter(pk=parameter.part_id).update(locked=True)
    parameter = PartParameter.objects.get(pk=parameter.pk)

    parameter.data = "2"
    with pytest.raises(ValidationError, match="is locked"):
        parameter.full_clean()


def test_one_value_per_part_and_template():
    existing = PartParameterFactory(data="1")

    errors = errors_of(PartParameter(part=existing.part, template=existing.template, data="2"))
    assert errors["__all__"] == ["This part already has a value for this parameter."]

    # another part may have the same parameter
    PartParameter(part=PartFactory(), template=existing.template, data="2").full_clean()
