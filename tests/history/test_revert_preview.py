"""The version page previews exactly what a revert would change (rendered by the one diff
renderer), marks the fields only operations may change as not revertible, and the revert then
goes through the model's service."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from fixtures.accounts import ensure_demo_accounts
from inventory.choices import StockHistoryCode
from inventory.models import StockItem, StockItemTracking
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


@pytest.fixture
def moved_item(demo):
    store = factories.StockLocationFactory(name="Store")
    shelf = factories.StockLocationFactory(name="Shelf 9")
    item = factories.StockItemFactory(location=store, quantity=Decimal(10), batch="B-1")
    first = item.history.get()
    stock_item_update(item=item, user=demo["allaccess"], batch="B-2")
    stock_item_move(item=item, location=shelf, user=demo["allaccess"])
    return item, first


def preview_rows(response):
    return {row.change.name: row for row in response.context["preview"]}


def test_preview_lists_each_difference_and_what_a_revert_does(client, demo, moved_item):
    item, first = moved_item
    client.force_login(demo["allaccess"])
    response = client.get(version_url(item, first))
    rows = preview_rows(response)
    assert set(rows) == {"batch", "location"}
    assert (rows["batch"].change.old, rows["batch"].change.new) == ("B-2", "B-1")
    assert rows["batch"].outcome == "restore"
    assert rows["location"].outcome == "refused"
    assert rows["location"].note == "changed only by stock operations"
    assert ">Shelf 9</a>" in rows["location"].change.old
    text = response.content.decode()
    assert (
        'id="revert-preview"' in text and "not revertible: changed only by stock operations" in text
    )


def test_apply_goes_through_the_service(client, demo, moved_item):
    item, first = moved_item
    client.force_login(demo["allaccess"])
    edits_before = StockItemTracking.objects.filter(
        item=item, tracking_type=StockHistoryCode.EDITED
    ).count()
    client.post(version_url(item, first), {})
    item.refresh_from_db()
    assert item.batch == "B-1" and item.location.name == "Shelf 9"
    # stock_item_update wrote its EDITED entry: the revert did not write the row directly
    assert (
        StockItemTracking.objects.filter(item=item, tracking_type=StockHistoryCode.EDITED).count()
        == edits_before + 1
    )
    latest = StockItem.history.filter(id=item.pk).first()
    assert latest.history_change_reason.startswith("Reverted to version of ")
    assert latest.history_user == demo["allaccess"]


def test_reader_sees_the_preview_but_cannot_apply_it(client, demo, moved_item):
    item, first = moved_item
    client.force_login(demo["reader"])
    response = client.get(version_url(item, first))
    assert preview_rows(response)["batch"].outcome == "restore"
    assert "would be restored (you may not revert)" in response.content.decode()
    assert client.post(version_url(item, first), {}).status_code == 403
    item.refresh_from_db()
    assert item.batch == "B-2"


def test_no_preview_when_the_version_matches(client, demo, moved_item):
    item, _first = moved_item
    client.force_login(demo["allaccess"])
    latest = item.history.first()
    response = client.get(version_url(item, latest))
    assert response.context["preview"] == []


def test_the_change_log_shows_the_revert_as_the_revert(client, demo, moved_item):
    from django.contrib.contenttypes.models import ContentType

    from admin_customisations.history.models import ChangeLogEntry

    item, first = moved_item
    client.force_login(demo["allaccess"])
    client.post(version_url(item, first), {})
    latest = StockItem.history.filter(id=item.pk).first()
    entry = ChangeLogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(StockItem), history_id=latest.history_id
    )
    assert (entry.reason, entry.user) == (latest.history_change_reason, demo["allaccess"])
    assert entry.reason.startswith("Reverted to version of ")
