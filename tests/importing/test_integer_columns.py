"""Integer columns refuse non-whole numbers (import-export's IntegerWidget truncates 1.5 to 1)."""

import pytest
from django.db import models
from import_export import widgets

from admin_customisations.importing.resource import (
    CellValueError,
    StrictIntegerWidget,
    all_resources,
    integer_column,
)
from admin_customisations.models import ImportRun
from inventory.models import Part, PartCategory
from tests.importing.engine_support import csv_text, import_file, messages, validate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_every_integer_column_of_every_resource_is_strict():
    checked = []
    for resource in all_resources():
        for col in resource.columns:
            if isinstance(col.widget, widgets.IntegerWidget):
                assert isinstance(col.widget, StrictIntegerWidget), (resource.name, col.header)
            if not col.importable or not col.attribute or col.reference:
                continue
            try:
                field = resource.model._meta.get_field(col.attribute)
            except Exception:  # noqa: BLE001 (not a model field)
                continue
            if isinstance(field, models.IntegerField) and not field.choices:
                assert isinstance(col.widget, StrictIntegerWidget), (resource.name, col.header)
                checked.append((resource.name, col.header))
    assert ("parts", "Default expiry (days)") in checked
    assert ("supplier_parts", "Lead time (days)") in checked


@pytest.mark.parametrize(
    ("text", "value"), [("3", 3), (" 3.0 ", 3), ("1e3", 1000), ("-2", -2), ("", None)]
)
def test_whole_numbers_are_read(text, value):
    assert integer_column("Days", "days").clean(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5", "'1.5' is not a whole number."),
        ("2.0001", "'2.0001' is not a whole number."),
        ("abc", "'abc' is not a whole number."),
        ("nan", "'nan' is not a whole number."),
        ("1e5000", "'1e5000' is too large."),
    ],
)
def test_non_whole_numbers_are_refused(text, message):
    with pytest.raises(CellValueError) as caught:
        integer_column("Days", "days").clean(text)
    assert str(caught.value) == message


def test_part_default_expiry_of_one_and_a_half_days_is_refused(superuser):
    PartCategory.objects.create(name="Chemicals")
    headers = ["IPN", "Name", "Category", "Default expiry (days)"]
    run, summary = validate(
        superuser, "parts", csv_text(headers, [["G-1", "Glue", "Chemicals", "1.5"]])
    )
    assert messages(run) == ["row 2, column Default expiry (days): '1.5' is not a whole number."]
    assert run.status == ImportRun.Status.INVALID and not Part.objects.exists()
    run = import_file(superuser, "parts", csv_text(headers, [["G-1", "Glue", "Chemicals", "2.0"]]))
    assert run.status == ImportRun.Status.COMMITTED, messages(run)
    assert Part.objects.get(ipn="G-1").default_expiry == 2


def test_supplier_part_lead_time_must_be_whole_days(superuser):
    from orders.models import SupplierPart
    from tests import factories

    factories.PartFactory(ipn="U-11", purchaseable=True)
    factories.CompanyFactory(name="DigiKey", is_supplier=True)
    headers = ["Supplier", "SKU", "Part IPN", "Lead time (days)"]
    run, _ = validate(
        superuser, "supplier_parts", csv_text(headers, [["DigiKey", "A-1", "U-11", "2.5"]])
    )
    assert messages(run) == ["row 2, column Lead time (days): '2.5' is not a whole number."]
    assert not SupplierPart.objects.exists()
