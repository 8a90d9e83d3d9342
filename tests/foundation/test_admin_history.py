"""Admin saves leave history attributed to the user, with a reason naming the fields."""

import pytest
from django.contrib import admin
from django.urls import reverse

from inventory.models import Part
from tests import factories
from tests.admin_cases import ADMIN_CASES

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


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_every_history_version_page_renders_and_a_no_op_revert_writes_nothing(
    admin_client_root, label
):
    """Every Stockroom admin's version page renders read-only (the version's values) with the
    revert policy applied, and reverting to the current version changes nothing."""
    obj = ADMIN_CASES[label].make()
    model = type(obj)
    record = model.history.filter(id=obj.pk).first()
    url = reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_simple_history",
        args=[obj.pk, record.history_id],
    )
    response = admin_client_root.get(url)
    assert response.status_code == 200
    assert "shown read-only" in response.content.decode()
    before = model.history.filter(id=obj.pk).count()
    response = admin_client_root.post(url, {}, follow=True)
    model_admin = admin.site._registry[model]
    if not model_admin.has_change_permission(response.wsgi_request, obj):  # read-only records
        assert response.status_code == 403
        assert model.history.filter(id=obj.pk).count() == before
        return
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Nothing to revert") for m in shown), shown
    assert model.history.filter(id=obj.pk).count() == before


def test_revert_policy_keeps_service_fields_out(rf, superuser):
    """Per-model policy (admin_customisations.history.revert): stock quantity, location and
    status, order status and references are never revertible."""
    from admin_customisations.history.revert import revertible_fields
    from builds.models import BuildOrder
    from inventory.models import StockItem
    from orders.models import PurchaseOrder, SalesOrder

    request = rf.get("/")
    request.user = superuser
    cases = {
        StockItem: factories.StockItemFactory,
        BuildOrder: factories.BuildOrderFactory,
        PurchaseOrder: factories.PurchaseOrderFactory,
        SalesOrder: factories.SalesOrderFactory,
    }
    for model, make in cases.items():
        fields = set(revertible_fields(admin.site._registry[model], request, make()))
        assert fields, model
        assert not fields & {"quantity", "location", "status", "part", "serial", "reference"}
    item_fields = revertible_fields(
        admin.site._registry[StockItem], request, factories.StockItemFactory()
    )
    assert set(item_fields) == {
        "batch",
        "expiry_date",
        "purchase_price",
        "purchase_price_currency",
        "notes",
        "delete_on_deplete",
    }
