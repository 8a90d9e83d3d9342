"""Return order admin: list figures, creation and lines through the services, transitions
and receiving from the order's page (refusals shown inline, nothing changed)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.choices import StockHistoryCode as H
from inventory.choices import StockStatus
from orders.choices import ReturnLineOutcome as O
from orders.choices import ReturnOrderStatus as R
from orders.models import ReturnOrder, ReturnOrderLine
from orders.services import returns as services
from tests import factories
from tests.orders.test_returns_services import returns_state

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/returnorder/"


def action_url(order, name):
    return f"/admin/orders/returnorder/{order.pk}/{name}/"


def change_url(order):
    return reverse("admin:orders_returnorder_change", args=[order.pk])


def post_action(client, url, **fields):
    data = {"apply": "1"}
    for key, value in fields.items():
        data[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return client.post(url, data)


@pytest.fixture
def customer():
    return factories.CompanyFactory(name="ACME Retail", is_customer=True, currency="EUR")


@pytest.fixture
def part():
    return factories.PartFactory(name="Widget", salable=True)


@pytest.fixture
def order(customer):
    return services.return_order_create(customer=customer, user=None)


@pytest.fixture
def item(part, customer):
    return factories.StockItemFactory(
        part=part, quantity=Decimal(5), customer=customer, location=None
    )


@pytest.fixture
def line(order, item):
    return services.return_order_add_line(
        order=order, item=item, user=None, outcome=O.REPAIR, price=Decimal(4)
    )


@pytest.fixture
def quarantine():
    return factories.StockLocationFactory(name="Quarantine")


def test_changelist_shows_received_progress_and_total(admin_client_root, order, line):
    content = admin_client_root.get(CHANGELIST).content.decode()
    assert "RMA-0001" in content
    assert "0 of 1" in content
    assert "20.00 EUR" in content  # 5 × 4


def test_add_creates_through_the_service(admin_client_root, customer):
    data = {
        "reference": "",
        "customer": customer.pk,
        "description": "Broken on arrival",
        "company_reference": "",
        "target_date": "",
        "responsible_user": "",
        "responsible_group": "",
        "contact": "",
        "address": "",
        "currency": "",
        "notes": "",
    }
    response = admin_client_root.post("/admin/orders/returnorder/add/", data)
    assert response.status_code == 302
    order = ReturnOrder.objects.get()
    assert (order.reference, order.status, order.created_by.username) == (
        "RMA-0001",
        R.PENDING,
        "root",
    )


def line_form(order, *new_lines):
    data = {
        "description": order.description,
        "company_reference": "",
        "target_date": "",
        "responsible_user": "",
        "responsible_group": "",
        "contact": "",
        "address": "",
        "currency": order.currency,
        "notes": "",
        "lines-TOTAL_FORMS": str(len(new_lines)),
        "lines-INITIAL_FORMS": "0",
    }
    for i, values in enumerate(new_lines):
        row = {
            "order": order.pk,
            "quantity": "",
            "outcome": O.PENDING,
            "price": "",
            "reference": "",
        }
        row.update(values)
        row.setdefault("notes", "")
        data.update({f"lines-{i}-{k}": str(v) for k, v in row.items()})
    return data


def test_inline_line_for_an_item_the_customer_has(admin_client_root, order, item):
    response = admin_client_root.post(change_url(order), line_form(order, {"item": item.pk}))
    assert response.status_code == 302, response.content.decode()[:2000]
    line = ReturnOrderLine.objects.get()
    assert (line.item, line.quantity) == (item, 5)
    assert line.history.first().history_user.username == "root"


def test_inline_refuses_an_item_of_another_customer(admin_client_root, order, part):
    elsewhere = factories.StockItemFactory(
        part=part, quantity=Decimal(2), customer=factories.CompanyFactory(name="Other Co")
    )
    before = returns_state()
    response = admin_client_root.post(change_url(order), line_form(order, {"item": elsewhere.pk}))
    assert response.status_code == 200
    # the item picker offers only the customer's items: another is refused on the form
    assert "Choose a stock item this order&#x27;s customer has." in response.content.decode()
    assert returns_state() == before


def test_receive_is_offered_only_when_in_progress(admin_client_root, order, line):
    assert (
        action_url(order, "receive")
        not in admin_client_root.get(change_url(order)).content.decode()
    )
    services.return_order_issue(order=order, user=None)
    assert action_url(order, "receive") in admin_client_root.get(change_url(order)).content.decode()


def test_receive_into_quarantine(admin_client_root, order, line, item, quarantine):
    services.return_order_issue(order=order, user=None)
    page = admin_client_root.get(action_url(order, "receive"))
    assert page.status_code == 200
    assert 'name="lines"' in page.content.decode()
    response = post_action(
        admin_client_root,
        action_url(order, "receive"),
        lines=[line.pk],
        location=quarantine.pk,
        status=StockStatus.QUARANTINED,
        notes="scratched",
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.location, item.customer, item.status) == (
        quarantine,
        None,
        StockStatus.QUARANTINED,
    )
    entry = item.tracking.get(tracking_type=H.RETURNED_AGAINST_RETURN_ORDER)
    assert (entry.user.username, entry.notes) == ("root", "scratched")
    assert ReturnOrderLine.objects.get().received_date is not None


def test_receiving_a_received_line_again_is_refused(admin_client_root, order, line, quarantine):
    services.return_order_issue(order=order, user=None)
    services.return_order_receive_line(line=line, location=quarantine, user=None)
    before = returns_state()
    response = post_action(
        admin_client_root,
        action_url(order, "receive"),
        lines=[line.pk],
        location=quarantine.pk,
        status=StockStatus.QUARANTINED,
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert returns_state() == before


def test_receive_refused_inline_changes_nothing(admin_client_root, order, line):
    services.return_order_issue(order=order, user=None)
    structural = factories.StockLocationFactory(name="Building", structural=True)
    before = returns_state()
    response = post_action(
        admin_client_root,
        action_url(order, "receive"),
        lines=[line.pk],
        location=structural.pk,
        status=StockStatus.QUARANTINED,
    )
    assert response.status_code == 200
    # structural locations are not offered, and refused on the form
    assert "not structural" in response.content.decode()
    assert returns_state() == before


def test_transitions_from_the_page(admin_client_root, order, line, quarantine):
    post_action(admin_client_root, action_url(order, "issue"))
    assert ReturnOrder.objects.get().status == R.IN_PROGRESS
    before = returns_state()
    refused = post_action(admin_client_root, action_url(order, "complete"))
    assert "not received yet: 5 × Widget" in refused.content.decode()
    assert returns_state() == before
    post_action(admin_client_root, action_url(order, "complete"), accept_incomplete="on")
    order.refresh_from_db()
    assert order.status == R.COMPLETE
    record = order.history.first()
    assert (record.history_user.username, record.history_change_reason) == (
        "root",
        "Completed (Complete)",
    )
    refused = post_action(admin_client_root, action_url(order, "cancel"))
    assert "RMA-0001 is Complete: it can only be cancelled" in refused.content.decode()


def test_hold_then_cancel(admin_client_root, order):
    post_action(admin_client_root, action_url(order, "hold"))
    assert ReturnOrder.objects.get().status == R.ON_HOLD
    post_action(admin_client_root, action_url(order, "cancel"))
    assert ReturnOrder.objects.get().status == R.CANCELLED


def test_page_with_a_received_line_renders(admin_client_root, order, line, quarantine):
    services.return_order_issue(order=order, user=None)
    services.return_order_receive_line(line=line, location=quarantine, user=None)
    content = admin_client_root.get(change_url(order)).content.decode()
    assert "1 of 1" in content
    assert action_url(order, "receive") not in content  # nothing left to receive
    assert action_url(order, "complete") in content
