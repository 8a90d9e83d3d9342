"""The bulk stock services copy history rows in the database (``INSERT … SELECT``): the rows
must be those simple-history's ``bulk_history_create`` writes for the same items."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test.utils import override_settings

from inventory.choices import StockStatus
from inventory.models import StockItem
from inventory.services.stock_bulk import _copy_history, stock_items_change_status
from tests import factories

pytestmark = pytest.mark.django_db


def rows(records):
    history = StockItem.history.model
    names = [f.attname for f in history._meta.concrete_fields if f.name != "history_id"]
    return [tuple(getattr(r, n) for n in names) for r in records.order_by("id", "history_id")]


@pytest.mark.parametrize("with_user", [True, False], ids=["user", "no user"])
def test_copied_history_rows_are_those_of_bulk_history_create(with_user):
    user = factories.UserFactory() if with_user else None
    customer = factories.CompanyFactory(is_customer=True)
    items = [
        factories.StockItemFactory(quantity=Decimal("2.5"), batch="B-1", notes="a\nb"),
        factories.StockItemFactory(status=StockStatus.DAMAGED, customer=customer, batch=""),
        factories.StockItemFactory(location=None, expiry_date="2027-01-31"),
    ]
    date = datetime(2026, 12, 1, 13, 14, 15, 123456, tzinfo=UTC)
    history = StockItem.history.model
    history.objects.all().delete()

    _copy_history([i.pk for i in items], user=user, reason="Copied (job #3)", date=date)
    copied = rows(history.objects.all())
    history.objects.all().delete()
    StockItem.history.bulk_history_create(
        StockItem.objects.filter(pk__in=[i.pk for i in items]).order_by("pk"),
        update=True,
        default_user=user,
        default_change_reason="Copied (job #3)",
        default_date=date,
    )
    assert copied == rows(history.objects.all())
    assert len(copied) == 3


def test_a_bulk_status_change_writes_one_history_row_per_changed_item():
    user = factories.UserFactory()
    items = [factories.StockItemFactory() for _ in range(3)]
    already = factories.StockItemFactory(status=StockStatus.LOST)
    before = StockItem.history.count()
    outcome = stock_items_change_status(
        items=StockItem.objects.filter(pk__in=[i.pk for i in [*items, already]]),
        status=StockStatus.LOST,
        user=user,
    )
    assert sorted(outcome.changed) == sorted(i.pk for i in items)
    assert StockItem.history.count() == before + 3
    for item in items:
        record = item.history.order_by("-history_id").first()
        saved = StockItem.objects.get(pk=item.pk)
        assert (record.history_type, record.history_user, record.status) == ("~", user, 70)
        assert record.history_change_reason == "Status changed to Lost"
        assert record.history_date == saved.updated


@override_settings(SIMPLE_HISTORY_ENABLED=False)
def test_no_history_rows_when_history_is_disabled():
    item = factories.StockItemFactory()
    before = StockItem.history.count()
    _copy_history([item.pk], user=None, reason="x", date=datetime.now(UTC))
    assert StockItem.history.count() == before
