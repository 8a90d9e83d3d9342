"""Responsible users/groups hold guardian object permissions; with ORDERS_RESPONSIBLE_ONLY only they may act."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from guardian.models import GroupObjectPermission, UserObjectPermission

from admin_customisations.roles import set_group_roles
from builds.choices import BuildStatus
from builds.models import BuildOrderUserObjectPermission
from builds.services.build import build_order_hold
from inventory.responsibility import changeable_by
from orders.choices import PurchaseOrderStatus
from orders.models import (
    PurchaseOrder,
    PurchaseOrderGroupObjectPermission,
    PurchaseOrderUserObjectPermission,
)
from orders.services.purchase import purchase_order_cancel, purchase_order_hold
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    buyers = Group.objects.create(name="buyers")
    set_group_roles(
        buyers, {"purchase_order": ("view", "add", "change"), "build": ("view", "change")}
    )
    alice = User.objects.create_user("alice", is_staff=True)
    bob = User.objects.create_user("bob", is_staff=True)
    carol = User.objects.create_user("carol", is_staff=True)
    for user in (alice, bob, carol):
        user.groups.add(buyers)
    team = Group.objects.create(name="electronics buyers")
    carol.groups.add(team)
    return {"alice": alice, "bob": bob, "carol": carol, "team": team}


def test_responsible_user_and_group_get_object_permissions(people):
    order = factories.PurchaseOrderFactory(
        responsible_user=people["alice"], responsible_group=people["team"]
    )
    assert PurchaseOrderUserObjectPermission.objects.filter(
        content_object=order, user=people["alice"]
    ).exists()
    assert PurchaseOrderGroupObjectPermission.objects.filter(
        content_object=order, group=people["team"]
    ).exists()
    assert not UserObjectPermission.objects.exists() and not GroupObjectPermission.objects.exists()


def test_changing_the_responsible_user_moves_the_grant(people):
    order = factories.PurchaseOrderFactory(responsible_user=people["alice"])
    order.responsible_user = people["bob"]
    order.save()
    holders = set(
        PurchaseOrderUserObjectPermission.objects.filter(content_object=order).values_list(
            "user__username", flat=True
        )
    )
    assert holders == {"bob"}


def test_off_by_default_anyone_with_the_role_may_act(people):
    order = factories.PurchaseOrderFactory(responsible_user=people["alice"])
    purchase_order_hold(order=order, user=people["bob"])
    assert PurchaseOrder.objects.get(pk=order.pk).status == PurchaseOrderStatus.ON_HOLD


def test_responsible_only_refuses_others_and_changes_nothing(people, settings):
    settings.ORDERS_RESPONSIBLE_ONLY = True
    order = factories.PurchaseOrderFactory(
        responsible_user=people["alice"], responsible_group=people["team"]
    )
    before = PurchaseOrder.history.filter(id=order.pk).count()
    with pytest.raises(ValidationError, match=f"Only the people responsible for {order.reference}"):
        purchase_order_cancel(order=order, user=people["bob"])
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PENDING
    assert PurchaseOrder.history.filter(id=order.pk).count() == before
    purchase_order_hold(order=order, user=people["carol"])  # through the responsible group
    purchase_order_cancel(order=order, user=people["alice"])
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.CANCELLED


def test_orders_without_a_responsible_party_follow_the_role(people, settings, superuser):
    settings.ORDERS_RESPONSIBLE_ONLY = True
    unassigned = factories.PurchaseOrderFactory()
    purchase_order_hold(order=unassigned, user=people["bob"])
    owned = factories.PurchaseOrderFactory(responsible_user=people["alice"])
    purchase_order_hold(order=owned, user=superuser)  # superusers always may
    assert set(changeable_by(people["bob"], PurchaseOrder.objects.all())) == {unassigned}
    assert set(changeable_by(people["alice"], PurchaseOrder.objects.all())) == {unassigned, owned}


def test_builds_follow_the_same_rule(people, settings):
    settings.ORDERS_RESPONSIBLE_ONLY = True
    build = factories.BuildOrderFactory(
        responsible_user=people["alice"], status=BuildStatus.PRODUCTION
    )
    assert BuildOrderUserObjectPermission.objects.filter(content_object=build).count() == 1
    with pytest.raises(ValidationError, match="Only the people responsible"):
        build_order_hold(build=build, user=people["bob"])
    build_order_hold(build=build, user=people["alice"])


def test_deleting_an_order_leaves_no_permission_rows(people):
    order = factories.PurchaseOrderFactory(
        responsible_user=people["alice"], responsible_group=people["team"]
    )
    order.delete()
    assert not PurchaseOrderUserObjectPermission.objects.exists()
    assert not PurchaseOrderGroupObjectPermission.objects.exists()


def test_crafted_post_by_a_non_responsible_user_is_refused(client, people, settings):
    settings.ORDERS_RESPONSIBLE_ONLY = True
    order = factories.PurchaseOrderFactory(responsible_user=people["alice"])
    client.force_login(people["bob"])
    response = client.post(
        "/admin/orders/purchaseorder/",
        {
            "action": "hold_orders",
            "_selected_action": [order.pk],
            "index": "0",
            "apply": "1",
        },
    )
    assert response.status_code in {200, 302, 403}
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PENDING


def test_non_responsible_users_see_the_order_read_only(client, people, settings):
    settings.ORDERS_RESPONSIBLE_ONLY = True
    order = factories.PurchaseOrderFactory(responsible_user=people["alice"], description="Original")
    client.force_login(people["bob"])
    page = client.get(f"/admin/orders/purchaseorder/{order.pk}/change/")
    assert page.status_code == 200
    assert 'name="description"' not in page.content.decode()
    response = client.post(
        f"/admin/orders/purchaseorder/{order.pk}/change/", {"description": "Changed"}
    )
    assert response.status_code == 403
    client.force_login(people["alice"])
    assert (
        'name="description"'
        in client.get(f"/admin/orders/purchaseorder/{order.pk}/change/").content.decode()
    )
