"""Admin saves leave history attributed to the user, with a reason naming the fields."""

import pytest

from inventory.models import Part
from tests import factories

pytestmark = pytest.mark.django_db


def part_form_data(part, **changes):
    data = {
        "name": part.name,
        "ipn": part.ipn,
        "revision": "",
        "description": part.description,
        "keywords": "",
        "category": part.category_id or "",
        "link": "",
        "units": "",
        "minimum_stock": "0",
        "default_expiry": "0",
        "component": "on",
        "purchaseable": "on",
        "active": "on",
        "notes": "",
    }
    for prefix in (
        "parameters",
        "bom_items",
        "supplier_parts",
        "manufacturer_parts",
    ):  # the part page's inlines
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    data.update(changes)
    return data


def test_admin_edit_records_user_and_changed_fields(admin_client_root, superuser):
    part = factories.PartFactory(description="old")
    response = admin_client_root.post(
        f"/admin/inventory/part/{part.pk}/change/", part_form_data(part, description="new text")
    )
    assert response.status_code == 302
    record = Part.history.filter(id=part.pk).first()
    assert record.history_user == superuser
    assert record.history_change_reason == "Changed in the admin: Description"
    assert record.description == "new text"


def test_admin_create_and_inline_records_reasons(admin_client_root, superuser):
    template = factories.PartParameterTemplateFactory(name="Tolerance", units="%")
    category = factories.PartCategoryFactory()
    data = part_form_data(Part(name="Fresh", ipn="F-1", description="", category=category))
    data.update(
        {
            "parameters-TOTAL_FORMS": "1",
            "parameters-0-template": template.pk,
            "parameters-0-data": "5",
        }
    )
    response = admin_client_root.post("/admin/inventory/part/add/", data)
    assert response.status_code == 302
    part = Part.objects.get(ipn="F-1")
    assert part.history.first().history_change_reason == "Created in the admin"
    assert part.history.first().history_user == superuser
    parameter = part.parameters.get()
    assert parameter.history.first().history_change_reason == "Created in the admin"
    assert parameter.history.first().history_user == superuser
