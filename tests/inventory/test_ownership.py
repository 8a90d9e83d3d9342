"""Stock ownership control: owners of a location (and of its nearest owned ancestor) may change its stock."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from admin_customisations.roles import set_group_roles
from inventory.models import (
    StockItem,
    StockLocationGroupObjectPermission,
    StockLocationUserObjectPermission,
)
from inventory.permissions import changeable_locations, changeable_stock_items, may_change_location
from inventory.services.stock import stock_item_move, stock_location_delete
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ownership_on(settings):
    settings.STOCK_OWNERSHIP_CONTROL = True


@pytest.fixture
def world():
    store = factories.StockLocationFactory(name="Store")
    shelf_a = factories.StockLocationFactory(name="Shelf A", parent=store)
    bin_1 = factories.StockLocationFactory(name="Bin 1", parent=shelf_a)
    bin_2 = factories.StockLocationFactory(name="Bin 2", parent=shelf_a)
    shelf_b = factories.StockLocationFactory(name="Shelf B", parent=store)
    team = Group.objects.create(name="store team")
    set_group_roles(team, {"stock": ("view", "change"), "stock_location": ("view", "change")})
    member = User.objects.create_user("member", password="pw", is_staff=True)
    member.groups.add(team)
    outsider = User.objects.create_user("outsider", password="pw", is_staff=True)
    other_team = Group.objects.create(name="other team")
    set_group_roles(other_team, {"stock": ("view", "change"), "stock_location": ("view", "change")})
    outsider.groups.add(other_team)
    assign_perm("inventory.change_stocklocation", team, shelf_a)
    assign_perm("inventory.change_stocklocation", outsider, bin_2)
    return {
        "store": store,
        "shelf_a": shelf_a,
        "bin_1": bin_1,
        "bin_2": bin_2,
        "shelf_b": shelf_b,
        "member": member,
        "outsider": outsider,
    }


def test_grants_use_the_direct_foreign_key_tables(world):
    assert (
        StockLocationGroupObjectPermission.objects.filter(content_object=world["shelf_a"]).count()
        == 1
    )
    assert (
        StockLocationUserObjectPermission.objects.filter(content_object=world["bin_2"]).count() == 1
    )
    assert not UserObjectPermission.objects.exists()


def test_nearest_owned_ancestor_decides(world):
    member, outsider = world["member"], world["outsider"]
    assert may_change_location(member, world["shelf_a"])
    assert may_change_location(member, world["bin_1"])  # inherited from Shelf A
    assert not may_change_location(member, world["bin_2"])  # Bin 2's own owner is the outsider
    assert may_change_location(outsider, world["bin_2"])
    assert not may_change_location(outsider, world["bin_1"])
    assert may_change_location(outsider, world["shelf_b"])  # nobody owns anything above Shelf B
    assert may_change_location(member, world["store"])


def test_owner_moves_stock_out_non_owner_is_refused(world):
    item = factories.StockItemFactory(location=world["bin_1"], quantity=Decimal(10))
    with pytest.raises(ValidationError, match="You do not own 'Store/Shelf A/Bin 1'"):
        stock_item_move(item=item, location=world["shelf_b"], user=world["outsider"])
    item.refresh_from_db()
    assert item.location == world["bin_1"] and item.tracking.count() == 0
    stock_item_move(item=item, location=world["shelf_b"], user=world["member"])
    item.refresh_from_db()
    assert item.location == world["shelf_b"]


def test_moving_into_someone_elses_location_is_refused(world):
    item = factories.StockItemFactory(location=world["shelf_b"], quantity=Decimal(5))
    with pytest.raises(ValidationError, match="You do not own 'Store/Shelf A/Bin 2'"):
        stock_item_move(item=item, location=world["bin_2"], user=world["member"])


def test_superuser_is_always_allowed(world, superuser):
    item = factories.StockItemFactory(location=world["bin_2"], quantity=Decimal(5))
    stock_item_move(item=item, location=world["bin_1"], user=superuser)
    assert StockItem.objects.get(pk=item.pk).location == world["bin_1"]


def test_switched_off_nobody_is_restricted(world, settings):
    settings.STOCK_OWNERSHIP_CONTROL = False
    item = factories.StockItemFactory(location=world["bin_1"], quantity=Decimal(5))
    stock_item_move(item=item, location=world["bin_2"], user=world["member"])


def test_querysets_for_changes_exclude_what_the_user_does_not_own(world):
    inside = factories.StockItemFactory(location=world["bin_2"])
    outside = factories.StockItemFactory(location=world["bin_1"])
    assert set(changeable_stock_items(world["member"], StockItem.objects.all())) == {outside}
    assert set(changeable_stock_items(world["outsider"], StockItem.objects.all())) == {inside}
    assert world["bin_2"] not in changeable_locations(world["member"])


def test_bulk_action_over_a_mixed_selection_is_refused_whole(client, world):
    mine = factories.StockItemFactory(location=world["bin_1"], quantity=Decimal(5))
    theirs = factories.StockItemFactory(location=world["bin_2"], quantity=Decimal(5))
    client.force_login(world["member"])
    response = client.post(
        "/admin/inventory/stockitem/",
        {
            "action": "move_stock",
            ACTION_CHECKBOX_NAME: [mine.pk, theirs.pk],
            "index": "0",
            "apply": "1",
            "location": world["shelf_b"].pk,
            "quantity": "",
            "notes": "",
        },
    )
    assert response.status_code == 200
    assert "You do not own &#x27;Store/Shelf A/Bin 2&#x27;" in response.content.decode()
    assert {i.location_id for i in StockItem.objects.all()} == {
        world["bin_1"].pk,
        world["bin_2"].pk,
    }


def test_non_owner_sees_the_item_read_only_and_cannot_post_changes(client, world):
    item = factories.StockItemFactory(location=world["bin_2"], quantity=Decimal(5), batch="OLD")
    client.force_login(world["member"])
    page = client.get(f"/admin/inventory/stockitem/{item.pk}/change/")
    assert page.status_code == 200
    assert 'name="batch"' not in page.content.decode()
    response = client.post(f"/admin/inventory/stockitem/{item.pk}/change/", {"batch": "NEW"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.batch == "OLD"


def test_deleting_a_location_removes_its_permission_rows(world, superuser):
    stock_location_delete(location=world["bin_2"], user=superuser)
    assert not StockLocationUserObjectPermission.objects.filter(
        content_object_id=world["bin_2"].pk
    ).exists()
    assert StockLocationUserObjectPermission.objects.count() == 0


def test_object_permissions_page_grants_ownership(admin_client_root, world):
    url = f"/admin/inventory/stocklocation/{world['shelf_b'].pk}/permissions/"
    assert admin_client_root.get(url).status_code == 200


def test_stock_items_are_imported_only_through_the_services(admin_client_root):
    """The stock import page is the service-backed resource's (stock_item_create: tracking,
    serials, ownership per row; tests/importing/test_inventory_resources.py), not a
    model-level import."""
    from admin_customisations.importing.resource import resource_for
    from inventory.models import StockItem
    from inventory.resources import StockItemResource

    assert isinstance(resource_for(StockItem), StockItemResource)
    page = admin_client_root.get("/admin/inventory/stockitem/import/")
    assert page.status_code == 200 and "Serial numbers" in page.content.decode()


def test_location_autocomplete_for_stock_offers_only_changeable_locations(client, world):
    client.force_login(world["member"])
    url = (
        "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name=location&term=Bin"
    )
    names = {row["text"] for row in client.get(url).json()["results"]}
    assert names == {"Store/Shelf A/Bin 1"}  # Bin 2 belongs to someone else
    url = "/admin/autocomplete/?app_label=inventory&model_name=stocklocation&field_name=parent&term=Bin"
    names = {row["text"] for row in client.get(url).json()["results"]}
    assert names == {"Store/Shelf A/Bin 1", "Store/Shelf A/Bin 2"}  # other searches are unaffected
