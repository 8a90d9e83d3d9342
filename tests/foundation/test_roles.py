"""Roles become group permissions; demo groups get InvenTree's demo rights; the group page edits them."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from admin_customisations.models import GroupRole
from admin_customisations.roles import ROLES, group_roles, set_group_roles, sync_all_groups
from fixtures.accounts import ensure_demo_accounts

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    ensure_demo_accounts()
    return {u.username: u for u in User.objects.all()}


@pytest.mark.parametrize(
    ("username", "allowed", "refused"),
    [
        (
            "reader",
            ["inventory.view_part", "orders.view_purchaseorder", "auth.view_user"],
            ["inventory.add_part", "inventory.change_stockitem", "auth.change_user"],
        ),
        (
            "engineer",
            [
                "inventory.add_part",
                "inventory.delete_partcategory",
                "builds.change_bomitem",
                "inventory.view_stockitem",
                "builds.view_buildorder",
                "orders.change_supplierpart",
            ],
            [
                "inventory.change_stockitem",
                "orders.view_purchaseorder",
                "orders.view_salesorder",
                "builds.change_buildorder",
                "auth.change_user",
            ],
        ),
        (
            "allaccess",
            [
                "orders.receive_purchaseorder",
                "builds.complete_buildorder",
                "orders.ship_salesorder",
                "inventory.delete_stockitem",
                "orders.change_returnorder",
                "auth.view_user",
            ],
            ["auth.change_user", "auth.add_group"],
        ),
    ],
)
def test_demo_groups_have_the_demo_rights(demo, username, allowed, refused):
    user = User.objects.get(username=username)  # fresh permission cache
    for perm in allowed:
        assert user.has_perm(perm), perm
    for perm in refused:
        assert not user.has_perm(perm), perm


def test_build_role_can_see_what_building_needs():
    group = Group.objects.create(name="builders")
    set_group_roles(group, {"build": ("view", "add", "change")})
    user = User.objects.create_user("b", is_staff=True)
    user.groups.add(group)
    assert user.has_perm("builds.change_buildorder")
    assert user.has_perm("builds.complete_buildorder")
    for perm in (
        "inventory.view_part",
        "builds.view_bomitem",
        "inventory.view_stockitem",
        "inventory.view_stocklocation",
    ):
        assert user.has_perm(perm)
    assert not user.has_perm("inventory.change_part")


def test_union_of_groups_applies():
    parts = Group.objects.create(name="parts")
    stock = Group.objects.create(name="stock")
    set_group_roles(parts, {"part": ("view", "change")})
    set_group_roles(stock, {"stock": ("view", "delete")})
    user = User.objects.create_user("both", is_staff=True)
    user.groups.add(parts, stock)
    assert user.has_perm("inventory.change_part") and user.has_perm("inventory.delete_stockitem")
    assert not user.has_perm("inventory.delete_part")


def test_sync_is_idempotent_and_repairs_hand_edits(demo):
    reader_group = Group.objects.get(name="readers")
    assert sync_all_groups() == []
    reader_group.permissions.clear()
    assert sync_all_groups() == ["readers"]
    assert reader_group.permissions.filter(codename="view_part").exists()
    call_command("sync_roles")
    assert sync_all_groups() == []


def test_load_demo_twice_writes_no_role_history(demo):
    before = GroupRole.history.count()
    ensure_demo_accounts()
    assert GroupRole.history.count() == before


def test_group_page_shows_and_saves_the_role_grid(admin_client_root, demo):
    group = Group.objects.get(name="engineering")
    content = admin_client_root.get(f"/admin/auth/group/{group.pk}/change/").content.decode()
    assert 'name="role_part_delete"' in content
    assert "Purchase orders: view" in content
    data = {"name": "engineering", "role_stock_view": "on", "role_stock_change": "on"}
    response = admin_client_root.post(f"/admin/auth/group/{group.pk}/change/", data)
    assert response.status_code == 302
    assert group_roles(group) == {"stock": ("view", "change")}
    engineer = User.objects.get(username="engineer")
    assert engineer.has_perm("inventory.change_stockitem")
    assert not engineer.has_perm("inventory.change_part")


def test_every_role_model_exists():
    from django.apps import apps

    for role in ROLES:
        for label in (*role.models, *role.view_models):
            apps.get_model(label)  # raises LookupError for a typo
