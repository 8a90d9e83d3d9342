"""Only administrators may grant or revoke object permissions (guardian's pages)."""

import pytest
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse
from guardian.shortcuts import assign_perm

from fixtures.accounts import ensure_demo_accounts
from inventory.models import StockLocationUserObjectPermission
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.STOCK_OWNERSHIP_CONTROL = True
    settings.ORDERS_RESPONSIBLE_ONLY = True
    ensure_demo_accounts()
    owner = factories.UserFactory(username="quarantine-owner", is_staff=True)
    quarantine = factories.StockLocationFactory(name="Quarantine")
    assign_perm("inventory.change_stocklocation", owner, quarantine)
    return {name: User.objects.get(username=name) for name in ("admin", "allaccess", "reader")} | {
        "quarantine": quarantine
    }


def test_allaccess_cannot_make_themselves_owner(client, demo):
    allaccess, quarantine = demo["allaccess"], demo["quarantine"]
    client.force_login(allaccess)
    url = f"/admin/inventory/stocklocation/{quarantine.pk}/permissions/user-manage/{allaccess.pk}/"
    before = StockLocationUserObjectPermission.objects.count()
    response = client.post(url, {"permissions": ["change_stocklocation", "delete_stocklocation"]})
    assert response.status_code == 403
    assert StockLocationUserObjectPermission.objects.count() == before
    assert not allaccess.has_perm("inventory.change_stocklocation", quarantine)


@pytest.mark.parametrize(
    "make,path",
    [
        (factories.StockLocationFactory, "inventory/stocklocation"),
        (lambda: factories.PurchaseOrderLineFactory().order, "orders/purchaseorder"),
        (lambda: factories.SalesOrderLineFactory().order, "orders/salesorder"),
        (lambda: factories.ReturnOrderLineFactory().order, "orders/returnorder"),
        (factories.BuildOrderFactory, "builds/buildorder"),
    ],
)
@pytest.mark.parametrize("username", ["allaccess", "reader"])
def test_every_object_permission_page_is_403_for_non_administrators(
    client, demo, make, path, username
):
    obj = make()
    user = demo[username]
    group = user.groups.first()
    client.force_login(user)
    base = f"/admin/{path}/{obj.pk}/permissions/"
    for url in (base, f"{base}user-manage/{user.pk}/", f"{base}group-manage/{group.pk}/"):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"permissions": ["view_" + path.split("/")[1]]}).status_code == 403
    # the change page does not offer the tab either
    page = client.get(f"/admin/{path}/{obj.pk}/change/").content.decode()
    assert "/permissions/" not in page


def test_admin_may_grant_ownership_and_sees_the_tab(client, demo):
    admin_user, quarantine, reader = demo["admin"], demo["quarantine"], demo["reader"]
    client.force_login(admin_user)
    page = client.get(f"/admin/inventory/stocklocation/{quarantine.pk}/change/").content.decode()
    assert f"/admin/inventory/stocklocation/{quarantine.pk}/permissions/" in page
    url = f"/admin/inventory/stocklocation/{quarantine.pk}/permissions/user-manage/{reader.pk}/"
    response = client.post(url, {"permissions": ["change_stocklocation"]})
    assert response.status_code == 302
    assert StockLocationUserObjectPermission.objects.filter(
        user=reader, content_object=quarantine
    ).exists()


def test_models_without_object_grants_have_no_object_permission_pages(client, demo):
    """Grants on a part would change nothing, so its admin offers no such page."""
    client.force_login(demo["admin"])
    part = factories.PartFactory()
    with pytest.raises(NoReverseMatch):
        reverse("admin:inventory_part_permissions", args=[part.pk])
    page = client.get(f"/admin/inventory/part/{part.pk}/change/").content.decode()
    assert "/permissions/" not in page
