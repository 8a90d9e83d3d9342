"""The stock item page's buttons: the list actions' forms and services, for this one item."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from fixtures.accounts import ensure_demo_accounts
from inventory.choices import StockHistoryCode
from inventory.models import StockItem, StockItemTracking
from tests import factories

pytestmark = pytest.mark.django_db


def page(item):
    return f"/admin/inventory/stockitem/{item.pk}/change/"


def action_url(item, path):
    return f"/admin/inventory/stockitem/{item.pk}/{path}/"


def snapshot():
    return (
        list(
            StockItem.objects.order_by("pk").values_list("pk", "quantity", "location_id", "status")
        ),
        StockItemTracking.objects.count(),
    )


@pytest.fixture
def places():
    return factories.StockLocationFactory(name="Shelf A"), factories.StockLocationFactory(
        name="Shelf B"
    )


@pytest.fixture
def item(places):
    return factories.StockItemFactory(quantity=Decimal(10), location=places[0])


def test_item_page_offers_the_actions_that_apply(admin_client_root, item):
    content = admin_client_root.get(page(item)).content.decode()
    for path in ("move-stock", "count-stock", "add-stock", "change-status", "install-into"):
        assert action_url(item, path) in content
    # nothing to return or uninstall for an item held in our stock; not trackable: no serials
    for path in ("return-from-customer", "uninstall", "serialize-stock"):
        assert action_url(item, path) not in content


def test_item_with_a_customer_offers_only_return(admin_client_root, item):
    item.customer = factories.CompanyFactory(is_customer=True)
    item.save()
    content = admin_client_root.get(page(item)).content.decode()
    assert action_url(item, "return-from-customer") in content
    for path in ("move-stock", "add-stock", "install-into", "uninstall"):
        assert action_url(item, path) not in content


def test_serialized_item_offers_no_quantity_changes(admin_client_root, places):
    part = factories.PartFactory(trackable=True)
    item = factories.StockItemFactory(part=part, quantity=1, serial="7", location=places[0])
    content = admin_client_root.get(page(item)).content.decode()
    assert action_url(item, "move-stock") in content
    for path in ("add-stock", "remove-stock", "split-stock", "serialize-stock"):
        assert action_url(item, path) not in content


def test_move_from_the_item_page_moves_it_and_writes_tracking(admin_client_root, item, places):
    form = admin_client_root.get(action_url(item, "move-stock"))
    assert form.status_code == 200
    content = form.content.decode()
    assert 'name="apply"' in content and 'name="location"' in content
    assert f'href="{page(item)}"' in content  # Cancel goes back to the item
    response = admin_client_root.post(
        action_url(item, "move-stock"),
        {"apply": "1", "location": places[1].pk, "quantity": "", "notes": "from its page"},
    )
    assert response.status_code == 302 and response.url == page(item)
    item.refresh_from_db()
    assert item.location == places[1]
    entry = StockItemTracking.objects.filter(item=item).latest("pk")
    assert entry.tracking_type == StockHistoryCode.STOCK_MOVE
    assert "Moved" in admin_client_root.get(response.url).content.decode()


def test_refusal_reshows_the_form_and_changes_nothing(admin_client_root, item):
    before = snapshot()
    response = admin_client_root.post(
        action_url(item, "remove-stock"), {"apply": "1", "quantity": "99", "notes": ""}
    )
    assert response.status_code == 200
    assert 'name="apply"' in response.content.decode()
    assert response.context["form"].errors
    assert snapshot() == before


def test_reader_sees_no_buttons_and_a_forged_post_is_refused(client, item, places):
    ensure_demo_accounts()
    client.force_login(User.objects.get(username="reader"))
    content = client.get(page(item)).content.decode()
    assert action_url(item, "move-stock") not in content
    before = snapshot()
    response = client.post(
        action_url(item, "move-stock"), {"apply": "1", "location": places[1].pk, "notes": ""}
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_item_page_queries_are_bounded(admin_client_root, item, django_assert_max_num_queries):
    admin_client_root.get(page(item))  # warm caches (content types, permissions)
    with django_assert_max_num_queries(20):  # 13: the rules load the item once per request
        assert admin_client_root.get(page(item)).status_code == 200
