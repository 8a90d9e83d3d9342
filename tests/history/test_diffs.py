"""The one diff renderer (admin_customisations.history.diffs), field kind by field kind, and
the History tab that uses it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from admin_customisations.history.diffs import diff_records, inline_text_diff
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from inventory.services.stock import stock_item_change_status, stock_item_move
from inventory.services.stock_edits import stock_item_update
from tests import factories

pytestmark = pytest.mark.django_db


def _versions(item):
    """(older, newer) pairs of an item's history, oldest pair first."""
    records = list(StockItem.history.model.objects.filter(id=item.pk).order_by("history_id"))
    return list(zip(records, records[1:], strict=False))


def _changes(item, pair_index=-1):
    pairs = _versions(item)
    return {c.name: c for c in diff_records(StockItem, [pairs[pair_index]])[0]}


@pytest.fixture
def item(superuser):
    location = factories.StockLocationFactory(name="Shelf A")
    return factories.StockItemFactory(location=location, quantity=Decimal("10"), batch="B-7")


def test_choice_fields_show_labels_not_codes(item, superuser):
    stock_item_change_status(item=item, status=StockStatus.ATTENTION, user=superuser)
    stock_item_change_status(item=item, status=StockStatus.OK, user=superuser)
    change = _changes(item)["status"]
    assert (change.label, change.old, change.new) == ("Status", "Attention needed", "OK")


def test_foreign_key_shows_linked_name_and_dash_for_empty(item, superuser):
    target = factories.StockLocationFactory(name="Shelf B")
    stock_item_move(item=item, location=target, user=superuser)
    change = _changes(item)["location"]
    assert ">Shelf A</a>" in change.old and ">Shelf B</a>" in change.new
    assert reverse("admin:inventory_stocklocation_change", args=[target.pk]) in change.new
    # an empty link is "—", never "Deleted user (pk=None)"
    record = StockItem.history.model.objects.filter(id=item.pk).latest("history_id")
    older = StockItem.history.model.objects.filter(id=item.pk).earliest("history_id")
    older.customer_id = None
    record.customer_id = factories.CompanyFactory(name="ACME", is_customer=True).pk
    change = {c.name: c for c in diff_records(StockItem, [(older, record)])[0]}["customer"]
    assert change.old == "—" and "ACME" in change.new


def test_deleted_related_row_is_named_as_deleted(item, superuser):
    gone = factories.StockLocationFactory(name="Temporary")
    stock_item_move(item=item, location=gone, user=superuser)
    gone_pk = gone.pk
    StockItem.objects.filter(pk=item.pk).update(location=None)
    gone.delete()
    change = _changes(item)["location"]
    assert change.new == f"deleted stock location #{gone_pk}"
    assert "Shelf A" in change.old


def test_cleared_value_shows_old_and_dash(item, superuser):
    stock_item_update(item=item, user=superuser, batch="")
    change = _changes(item)["batch"]
    assert (change.old, change.new) == ("B-7", "—")


def test_quantities_are_shown_as_the_stock_pages_show_them(superuser):
    item = factories.StockItemFactory(quantity=Decimal("10.00000"))
    from inventory.services.stock import stock_item_remove

    stock_item_remove(item=item, quantity=Decimal("2.5"), user=superuser)
    change = _changes(item)["quantity"]
    assert (change.old, change.new) == ("10", "7.5")


def test_long_text_is_an_inline_diff(item, superuser):
    before = "Keep dry. Store on the top shelf next to the capacitors, away from the door."
    after = "Keep dry. Store on the bottom shelf next to the capacitors, away from the door."
    stock_item_update(item=item, user=superuser, notes=before)
    stock_item_update(item=item, user=superuser, notes=after)
    change = _changes(item)["notes"]
    assert change.inline is not None
    assert '<del class="history-removed">top</del>' in change.inline
    assert '<ins class="history-added">bottom</ins>' in change.inline
    assert "door." not in change.inline  # far from the change: elided


def test_inline_diff_escapes_html():
    diff = inline_text_diff("a <b>", "a <script>")
    assert "<script>" not in diff and "&lt;script&gt;" in diff


def test_booleans_are_yes_and_no(item, superuser):
    stock_item_update(item=item, user=superuser, delete_on_deplete=not item.delete_on_deplete)
    change = _changes(item)["delete_on_deplete"]
    assert {change.old, change.new} == {"Yes", "No"}


def test_tracking_details_are_in_words(item, superuser):
    entry = StockItemTracking.objects.create(
        item=item, tracking_type=10, deltas={"quantity": "4", "previous_quantity": "10"}
    )
    entry.deltas = {"quantity": "6", "previous_quantity": "4", "status": 50}
    entry.save()
    records = list(
        StockItemTracking.history.model.objects.filter(id=entry.pk).order_by("history_id")
    )
    change = {c.name: c for c in diff_records(StockItemTracking, [tuple(records)])[0]}["deltas"]
    assert "quantity 10 → 4" in change.old
    assert "quantity 4 → 6" in change.new and "Attention needed" in change.new
    assert "{" not in change.new


def test_related_names_are_looked_up_once_per_model(superuser):
    items = []
    for _ in range(6):
        item = factories.StockItemFactory(location=factories.StockLocationFactory())
        place = factories.StockLocationFactory()
        stock_item_move(item=item, location=place, user=superuser)
        items.append(item)
    pairs = [_versions(item)[-1] for item in items]
    with CaptureQueriesContext(connection) as queries:
        rendered = diff_records(StockItem, pairs)
    assert len(queries) == 1  # all the locations, old and new, in one query
    assert all("location" in {c.name for c in changes} for changes in rendered)


def test_history_tab_shows_readable_changes(admin_client_root, item, superuser):
    stock_item_change_status(item=item, status=StockStatus.ATTENTION, user=superuser)
    stock_item_update(item=item, user=superuser, batch="")
    page = admin_client_root.get(reverse("admin:inventory_stockitem_history", args=[item.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "OK → Attention needed" in text
    assert "B-7 → —" in text
    assert "pk=None" not in text and "10 → 50" not in text
