"""The history version ("revert") page: reverting needs change permission on the model and the
object, restores only what the revert policy allows, through the services, and never takes
field values from the request."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from guardian.shortcuts import assign_perm

from fixtures.accounts import ensure_demo_accounts
from inventory.models import Part, StockItem
from inventory.services.common import save_with_history
from inventory.services.stock import stock_item_move
from inventory.services.stock_edits import stock_item_update
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    ensure_demo_accounts()
    return {u.username: u for u in User.objects.all()}


def version_url(obj, record):
    opts = obj._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/history/{record.history_id}/"


def history_count(obj):
    return obj.history.filter(id=obj.pk).count()


def renamed_part():
    """A part first called "Old name" in category A, then renamed and moved to category B."""
    part = factories.PartFactory(name="Old name", description="first")
    first = part.history.get()
    part.name, part.description = "New name", "second"
    part.category = factories.PartCategoryFactory(name="Elsewhere")
    save_with_history(part, user=None, reason="Edited")
    return part, first


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- who may revert -----------------------------------------------------------------------


def test_reader_sees_the_version_read_only(client, demo):
    part, first = renamed_part()
    client.force_login(demo["reader"])
    response = client.get(version_url(part, first))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_revert"' not in page
    assert "You may view it, but not revert to it." in page
    assert "Old name" in page  # the version's values, shown


def test_reader_post_is_forbidden_and_changes_nothing(client, demo):
    part, first = renamed_part()
    before = history_count(part)
    client.force_login(demo["reader"])
    forged = {"name": "Hacked", "ipn": part.ipn, "description": "x", "category": ""}
    response = client.post(version_url(part, first), forged)
    assert response.status_code == 403
    part.refresh_from_db()
    assert (part.name, part.description, part.category.name) == ("New name", "second", "Elsewhere")
    assert history_count(part) == before


def test_engineer_may_not_revert_stock(client, demo):
    item = factories.StockItemFactory(batch="B-1", notes="first")
    first = item.history.get()
    stock_item_update(item=item, user=None, batch="B-2", notes="second")
    before = history_count(item)
    client.force_login(demo["engineer"])  # parts role; stock: view only
    assert client.get(version_url(item, first)).status_code == 200
    response = client.post(version_url(item, first), {})
    assert response.status_code == 403
    item.refresh_from_db()
    assert (item.batch, item.notes) == ("B-2", "second")
    assert history_count(item) == before


def test_ownership_applies_to_the_current_location(client, demo, settings):
    """allaccess may change stock, but not stock in a location somebody else owns."""
    settings.STOCK_OWNERSHIP_CONTROL = True
    theirs = factories.StockLocationFactory(name="Quarantine")
    assign_perm("inventory.change_stocklocation", factories.UserFactory(), theirs)
    item = factories.StockItemFactory(location=theirs, batch="B-1")
    first = item.history.get()
    stock_item_update(item=item, user=None, batch="B-2")
    before = history_count(item)
    client.force_login(demo["allaccess"])
    response = client.post(version_url(item, first), {})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.batch == "B-2"
    assert history_count(item) == before


def test_ownership_is_checked_on_the_current_object_not_the_version(client, demo, settings):
    """The version was in a free location; the item is now in an owned one: still refused."""
    settings.STOCK_OWNERSHIP_CONTROL = True
    free = factories.StockLocationFactory(name="Free")
    theirs = factories.StockLocationFactory(name="Owned")
    assign_perm("inventory.change_stocklocation", factories.UserFactory(), theirs)
    item = factories.StockItemFactory(location=free, batch="B-1")
    first = item.history.get()
    stock_item_move(item=item, location=theirs, user=None)
    client.force_login(demo["allaccess"])
    assert client.post(version_url(item, first), {}).status_code == 403


@pytest.mark.parametrize("make", [factories.BuildOrderFactory, factories.PurchaseOrderFactory])
def test_responsible_only_applies_to_reverts(client, demo, settings, make):
    """With ORDERS_RESPONSIBLE_ONLY, only the responsible party may revert an order or build."""
    settings.ORDERS_RESPONSIBLE_ONLY = True
    obj = make()
    obj.responsible_user = factories.UserFactory(username="someone-else")
    obj.notes = "first"
    save_with_history(obj, user=None, reason="Edited")
    first = obj.history.first()
    obj.notes = "second"
    save_with_history(obj, user=None, reason="Edited")
    before = history_count(obj)
    client.force_login(demo["allaccess"])
    assert client.get(version_url(obj, first)).status_code == 200
    assert client.post(version_url(obj, first), {}).status_code == 403
    obj.refresh_from_db()
    assert obj.notes == "second"
    assert history_count(obj) == before
    client.force_login(obj.responsible_user)  # responsible, but without the role: still no
    assert client.post(version_url(obj, first), {}).status_code == 403


def test_a_responsible_person_may_revert_notes_of_a_build(client, demo, settings):
    settings.ORDERS_RESPONSIBLE_ONLY = True
    build = factories.BuildOrderFactory(notes="first")
    first = build.history.first()
    build.responsible_user = demo["allaccess"]
    build.notes = "second"
    save_with_history(build, user=None, reason="Edited")
    client.force_login(demo["allaccess"])
    response = client.post(version_url(build, first), {}, follow=True)
    build.refresh_from_db()
    assert build.notes == "first"
    # reverting to no responsible person is an edit like any other on the build's form
    assert build.history.first().history_change_reason.startswith("Reverted to version of")
    assert response.status_code == 200


# --- what a revert does -------------------------------------------------------------------


def test_revert_of_a_part_restores_it_with_reason_and_user(client, demo):
    part, first = renamed_part()
    first.history_user = demo["engineer"]
    first.save()
    client.force_login(demo["allaccess"])
    page = client.get(version_url(part, first)).content.decode()
    assert 'name="_revert"' in page
    response = client.post(version_url(part, first), {"name": "Posted values are ignored"})
    assert response.status_code == 302
    part.refresh_from_db()
    assert (part.name, part.description) == ("Old name", "first")
    assert part.category_id == first.category_id
    latest = part.history.first()
    assert latest.history_user == demo["allaccess"]
    assert latest.history_change_reason.startswith("Reverted to version of ")
    assert latest.history_change_reason.endswith("(by engineer)")
    assert history_count(part) == 3
    shown = messages_of(client.get(response.url))
    assert any("was reverted to the version of" in m and "Name" in m for m in shown)


def test_stock_revert_restores_descriptive_fields_only(client, demo):
    store, shelf = factories.StockLocationFactory(name="Store"), factories.StockLocationFactory()
    item = factories.StockItemFactory(
        location=store, quantity=10, batch="B-1", notes="first", purchase_price=Decimal("2.50")
    )
    first = item.history.get()
    stock_item_update(item=item, user=None, batch="B-2", notes="second")
    stock_item_move(item=item, location=shelf, user=None)
    StockItem.objects.filter(pk=item.pk).update(quantity=7)  # as if counted
    client.force_login(demo["allaccess"])
    page = client.get(version_url(item, first)).content.decode()
    assert "Quantity and Location can only be changed by stock operations" in page
    response = client.post(version_url(item, first), {}, follow=True)
    item.refresh_from_db()
    assert (item.batch, item.notes) == ("B-1", "first")
    assert item.location == shelf and item.quantity == 7  # left as they are
    shown = messages_of(response)
    assert (
        "Quantity and Location can only be changed by stock operations and were not reverted."
        in shown
    )
    latest = item.history.first()
    assert latest.history_change_reason.startswith("Reverted to version of ")
    assert latest.history_user == demo["allaccess"]


def test_revert_that_changes_nothing_says_so(client, demo):
    part, _first = renamed_part()
    latest = part.history.first()
    before = history_count(part)
    client.force_login(demo["allaccess"])
    response = client.post(version_url(part, latest), {}, follow=True)
    assert "Nothing to revert: this version matches the current part." in messages_of(response)
    assert not any("reverted to the version" in m for m in messages_of(response))
    assert history_count(part) == before


def test_empty_post_wipes_nothing(client, demo):
    item = factories.StockItemFactory(
        batch="B-1", notes="keep me", purchase_price=Decimal("3.10"), purchase_price_currency="EUR"
    )
    latest = item.history.first()
    client.force_login(demo["allaccess"])
    client.post(version_url(item, latest), {})
    item.refresh_from_db()
    assert (item.batch, item.notes, item.purchase_price) == ("B-1", "keep me", Decimal("3.10"))
    assert item.purchase_price_currency == "EUR"


def test_refused_service_rule_is_a_message_not_a_500(client, demo):
    """The service's own rules still apply (here: a part name must not be empty)."""
    part = factories.PartFactory(name="Valid")
    first = part.history.get()
    Part.history.filter(history_id=first.history_id).update(name="")
    part.name = "Changed"
    save_with_history(part, user=None, reason="Edited")
    client.force_login(demo["allaccess"])
    response = client.post(version_url(part, first), {}, follow=True)
    assert response.status_code == 200
    assert any(m.startswith("Not reverted:") for m in messages_of(response))
    part.refresh_from_db()
    assert part.name == "Changed"


def test_version_page_tabs_have_links(client, demo):
    """Unfold's tab_action.html binds Alpine's actionDropdownOpen only inside a dropdown's x-data:
    a tab without a link (the unresolved "History" tab) raised a JavaScript error."""
    part, first = renamed_part()
    client.force_login(demo["reader"])
    page = client.get(version_url(part, first)).content.decode()
    assert f'href="/admin/inventory/part/{part.pk}/history/"' in page
    toggles = page.count('x-on:click="actionDropdownOpen = !actionDropdownOpen"')
    scopes = page.count('x-data="{actionDropdownOpen: false}"')
    assert toggles <= scopes
