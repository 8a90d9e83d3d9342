"""Sales order and shipment admin: list figures and filters, creation and inline lines through
the services, and every page action's success and refusal (refusals change nothing)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from inventory.choices import StockHistoryCode as H
from inventory.models import StockItem
from orders.choices import SalesOrderStatus as S
from orders.models import (
    Contact,
    SalesOrder,
    SalesOrderAllocation,
    SalesOrderLine,
    SalesOrderShipment,
)
from orders.services import sales as services
from tests import factories
from tests.orders.test_sales_services import sales_state

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/salesorder/"


def action_url(order, name):
    return f"/admin/orders/salesorder/{order.pk}/{name}/"


def change_url(order):
    return reverse("admin:orders_salesorder_change", args=[order.pk])


def post_action(client, url, **fields):
    data = {"apply": "1", **{k: "" if v is None else str(v) for k, v in fields.items()}}
    return client.post(url, data)


@pytest.fixture
def clerk():
    return factories.UserFactory(username="clerk")


@pytest.fixture
def customer():
    return factories.CompanyFactory(name="ACME Retail", is_customer=True, currency="EUR")


@pytest.fixture
def part():
    return factories.PartFactory(name="Widget", salable=True)


@pytest.fixture
def order(customer, clerk):
    return services.sales_order_create(customer=customer, user=clerk)


@pytest.fixture
def line(order, part, clerk):
    return services.sales_order_add_line(
        order=order, part=part, quantity=10, unit_price=Decimal("2.5"), user=clerk
    )


@pytest.fixture
def item(part):
    return factories.StockItemFactory(part=part, quantity=Decimal(30))


def root_history(obj):
    record = type(obj).history.filter(id=obj.pk).first()
    return record.history_user.username, record.history_change_reason


# ---------------------------------------------------------------- list


def test_changelist_shows_figures_and_filters_overdue(admin_client_root, order, line, clerk):
    services.sales_order_add_extra_line(order=order, description="Shipping", price=7, user=clerk)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    services.sales_order_update(order=order, user=clerk, target_date=yesterday)
    on_time = services.sales_order_create(customer=order.customer, user=clerk)
    content = admin_client_root.get(CHANGELIST).content.decode()
    assert "SO-0001" in content and "SO-0002" in content
    assert "0 of 1" in content  # lines shipped of total
    assert "32.00 EUR" in content  # 10 × 2.5 + 7
    assert "overdue" in content and "Pending" in content
    filtered = admin_client_root.get(CHANGELIST + "?overdue=yes").content.decode()
    assert "SO-0001" in filtered and on_time.reference not in filtered
    by_status = admin_client_root.get(CHANGELIST + f"?status__exact={S.IN_PROGRESS}")
    assert "SO-0001" not in by_status.content.decode()


# ---------------------------------------------------------------- create and edit


def order_form(customer, **extra):
    data = {
        "reference": "",
        "customer": customer.pk,
        "description": "",
        "company_reference": "",
        "target_date": "",
        "responsible_user": "",
        "responsible_group": "",
        "contact": "",
        "address": "",
        "currency": "",
        "notes": "",
    }
    data.update(extra)
    return data


def test_add_creates_through_the_service(admin_client_root, customer):
    response = admin_client_root.post("/admin/orders/salesorder/add/", order_form(customer))
    assert response.status_code == 302
    order = SalesOrder.objects.get()
    assert (order.reference, order.status, order.currency) == ("SO-0001", S.PENDING, "EUR")
    assert order.created_by.username == "root"
    assert root_history(order) == ("root", "Created")


def test_add_refuses_a_contact_of_another_company(admin_client_root, customer):
    other = factories.CompanyFactory(name="Other Co")
    contact = Contact.objects.create(company=other, name="Olga")
    response = admin_client_root.post(
        "/admin/orders/salesorder/add/", order_form(customer, contact=contact.pk)
    )
    assert response.status_code == 200
    assert "Olga is a contact of Other Co, not of ACME Retail." in response.content.decode()
    assert not SalesOrder.objects.exists()


def test_add_refuses_a_reference_off_pattern(admin_client_root, customer):
    response = admin_client_root.post(
        "/admin/orders/salesorder/add/", order_form(customer, reference="ORDER-1")
    )
    assert "does not match the pattern" in response.content.decode()
    assert not SalesOrder.objects.exists()


def change_form(order, lines=(), new_lines=(), deleted=(), **extra):
    """POST data for the order's page: header fields, existing lines, new lines."""
    data = order_form(order.customer, **{"currency": order.currency, **extra})
    data.pop("reference")
    data.pop("customer")
    data.update(
        {
            "lines-TOTAL_FORMS": str(len(lines) + len(new_lines)),
            "lines-INITIAL_FORMS": str(len(lines)),
            "extra_lines-TOTAL_FORMS": "0",
            "extra_lines-INITIAL_FORMS": "0",
            "shipments-TOTAL_FORMS": str(order.shipments.count()),
            "shipments-INITIAL_FORMS": str(order.shipments.count()),
        }
    )
    rows = [(line, {}) for line in lines] + [(None, values) for values in new_lines]
    for i, (line, values) in enumerate(rows):
        prefix = f"lines-{i}-"
        if line is not None:
            values = {
                "id": line.pk,
                "order": order.pk,
                "part": line.part_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price if line.unit_price is not None else "",
                "reference": line.reference,
                "notes": line.notes,
                **({"DELETE": "on"} if line in deleted else {}),
            }
        else:
            values = {"order": order.pk, "reference": "", "notes": "", "unit_price": "", **values}
        data.update({prefix + k: str(v) for k, v in values.items()})
    return data


def test_inline_line_is_added_through_the_service(admin_client_root, order, part):
    response = admin_client_root.post(
        change_url(order), change_form(order, new_lines=[{"part": part.pk, "quantity": "4"}])
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    line = SalesOrderLine.objects.get()
    assert (line.part, line.quantity) == (part, 4)
    assert root_history(line) == ("root", "Line added")


def test_inline_refuses_a_part_that_is_not_salable(admin_client_root, order):
    tool = factories.PartFactory(name="Tool", salable=False)
    before = sales_state()
    response = admin_client_root.post(
        change_url(order), change_form(order, new_lines=[{"part": tool.pk, "quantity": "1"}])
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Select a valid choice" in content or "not a salable physical part" in content
    assert sales_state() == before


def test_inline_refuses_lowering_quantity_below_allocated(admin_client_root, order, line, item):
    services.sales_order_allocate(line=line, item=item, quantity=6, user=None)
    data = change_form(order, lines=[line])
    data["lines-0-quantity"] = "5"
    before = sales_state()
    response = admin_client_root.post(change_url(order), data)
    assert response.status_code == 200
    assert "the quantity cannot go below 6" in response.content.decode()
    assert sales_state() == before


def test_inline_refuses_deleting_a_shipped_line(admin_client_root, order, line):
    SalesOrderLine.objects.filter(pk=line.pk).update(shipped=2)
    line.refresh_from_db()
    before = sales_state()
    response = admin_client_root.post(
        change_url(order), change_form(order, lines=[line], deleted=[line])
    )
    assert response.status_code == 200
    assert "already shipped: the line cannot be deleted" in response.content.decode()
    assert sales_state() == before


def test_header_edit_goes_through_the_service(admin_client_root, order):
    response = admin_client_root.post(change_url(order), change_form(order, description="Rush"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.description == "Rush"
    assert root_history(order) == ("root", "Changed in the admin: Description")


def test_change_page_renders_lines_allocations_and_offered_actions(
    admin_client_root, order, line, item
):
    services.sales_order_allocate(line=line, item=item, quantity=4, user=None)
    content = admin_client_root.get(change_url(order)).content.decode()
    assert 'id="allocation-table"' in content and "pending" in content
    table = content[content.index('id="allocation-table"') :].split("</table>")[0]
    headers = re.findall(r"<th class=\"([^\"]*)\">([^<]*)</th>", table)
    assert [text for _, text in headers] == [
        "line",
        "stock item",
        "location",
        "quantity",
        "shipment",
        "state",
    ]
    assert all("px-2" in classes for classes, _ in headers)  # padded: titles stay apart
    assert action_url(order, "issue") in content
    assert action_url(order, "allocate") in content
    assert action_url(order, "complete") not in content  # only from In progress / Shipped
    assert action_url(order, "ship") not in content


# ---------------------------------------------------------------- transitions


def test_issue_page_then_issue(admin_client_root, order):
    page = admin_client_root.get(action_url(order, "issue"))
    assert page.status_code == 200
    assert "The order moves to In progress" in page.content.decode()
    response = post_action(admin_client_root, action_url(order, "issue"))
    assert response.status_code == 302 and response.url == change_url(order)
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS
    assert root_history(order) == ("root", "Issued (In progress)")


def test_refused_transition_shows_inline_and_changes_nothing(admin_client_root, order):
    before = sales_state()
    response = post_action(admin_client_root, action_url(order, "complete"))
    assert response.status_code == 200
    assert (
        "SO-0001 is Pending: it can only be completed when In progress or Shipped."
        in response.content.decode()
    )
    assert sales_state() == before


def test_hold_and_cancel(admin_client_root, order, line, item):
    services.sales_order_allocate(line=line, item=item, quantity=4, user=None)
    post_action(admin_client_root, action_url(order, "hold"))
    assert SalesOrder.objects.get().status == S.ON_HOLD
    post_action(admin_client_root, action_url(order, "cancel"))
    assert SalesOrder.objects.get().status == S.CANCELLED
    assert not SalesOrderAllocation.objects.exists()


def test_complete_with_open_shipment_is_refused(admin_client_root, order, line, item):
    services.sales_order_issue(order=order, user=None)
    services.shipment_create(order=order, user=None)
    before = sales_state()
    response = post_action(admin_client_root, action_url(order, "complete"), accept_incomplete="on")
    assert "shipment 1 is not shipped yet" in response.content.decode()
    assert sales_state() == before


def test_complete_accepting_incomplete_lines(admin_client_root, order, line):
    services.sales_order_issue(order=order, user=None)
    refused = post_action(admin_client_root, action_url(order, "complete"))
    assert "lines not fully shipped: Widget (0 of 10)" in refused.content.decode()
    post_action(admin_client_root, action_url(order, "complete"), accept_incomplete="on")
    assert SalesOrder.objects.get().status == S.SHIPPED


def test_action_needs_its_permission(client, order):
    staff = factories.UserFactory(username="viewer")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_salesorder", "change_salesorder"])
    )
    client.force_login(staff)
    assert client.get(action_url(order, "issue")).status_code == 403
    assert client.post(action_url(order, "issue"), {"apply": "1"}).status_code == 403
    assert SalesOrder.objects.get().status == S.PENDING
    staff.user_permissions.add(Permission.objects.get(codename="issue_salesorder"))
    staff = type(staff).objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.post(action_url(order, "issue"), {"apply": "1"}).status_code == 302
    assert SalesOrder.objects.get().status == S.IN_PROGRESS


def test_bulk_issue_from_the_changelist(admin_client_root, customer, clerk):
    first = services.sales_order_create(customer=customer, user=clerk)
    second = services.sales_order_create(customer=customer, user=clerk)
    data = {"action": "issue_orders", ACTION_CHECKBOX_NAME: [first.pk, second.pk], "apply": "1"}
    response = admin_client_root.post(CHANGELIST, data)
    assert response.status_code == 302
    assert set(SalesOrder.objects.values_list("status", flat=True)) == {S.IN_PROGRESS}
    before = sales_state()
    again = admin_client_root.post(CHANGELIST, data, follow=True)
    # orders already in the requested state are skipped, not an error (docs/bulk-actions.md)
    assert "Issued 0 sales orders. 2 already up to date, skipped." in again.content.decode()
    assert sales_state() == before


# ---------------------------------------------------------------- allocation and shipping


def test_allocate_page_and_allocation(admin_client_root, order, line, item):
    page = admin_client_root.get(action_url(order, "allocate")).content.decode()
    assert 'id="action-summary"' in page and "Still needed" in page
    response = post_action(
        admin_client_root, action_url(order, "allocate"), line=line.pk, item=item.pk, quantity=4
    )
    assert response.status_code == 302
    allocation = SalesOrderAllocation.objects.get()
    assert (allocation.line, allocation.item, allocation.quantity) == (line, item, 4)
    assert root_history(allocation) == ("root", "Allocated 4")


def test_allocating_more_than_available_is_refused_inline(admin_client_root, order, line, item):
    other = services.sales_order_create(customer=order.customer, user=None)
    other_line = services.sales_order_add_line(order=other, part=line.part, quantity=25, user=None)
    services.sales_order_allocate(line=other_line, item=item, quantity=25, user=None)
    before = sales_state()
    response = post_action(
        admin_client_root, action_url(order, "allocate"), line=line.pk, item=item.pk, quantity=6
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert (
        "Only 5 of 30 × Widget is unallocated (25 of 30 already allocated): cannot allocate 6."
        in content
    )
    assert sales_state() == before


def test_auto_allocate_and_release(admin_client_root, order, line, item):
    response = post_action(admin_client_root, action_url(order, "auto-allocate"))
    assert response.status_code == 302
    allocation = SalesOrderAllocation.objects.get()
    assert (allocation.item, allocation.quantity) == (item, 10)
    post_action(
        admin_client_root, action_url(order, "unallocate"), allocation=allocation.pk, quantity=3
    )
    assert SalesOrderAllocation.objects.get().quantity == 7
    post_action(admin_client_root, action_url(order, "unallocate"), allocation=allocation.pk)
    assert not SalesOrderAllocation.objects.exists()


def test_shipping_an_empty_shipment_is_refused(admin_client_root, order, line):
    services.sales_order_issue(order=order, user=None)
    post_action(admin_client_root, action_url(order, "add-shipment"), tracking_number="T1")
    shipment = SalesOrderShipment.objects.get()
    assert (shipment.reference, shipment.tracking_number) == ("1", "T1")
    before = sales_state()
    response = post_action(admin_client_root, action_url(order, "ship"), shipment=shipment.pk)
    assert response.status_code == 200
    assert "has no allocated stock: nothing to ship." in response.content.decode()
    assert sales_state() == before


def test_allocate_assign_ship_and_complete(admin_client_root, order, line, item, customer):
    services.sales_order_issue(order=order, user=None)
    services.sales_order_allocate(line=line, item=item, quantity=10, user=None)
    post_action(admin_client_root, action_url(order, "add-shipment"))
    shipment = SalesOrderShipment.objects.get()
    post_action(admin_client_root, action_url(order, "assign-shipment"), shipment=shipment.pk)
    assert SalesOrderAllocation.objects.get().shipment == shipment
    response = post_action(
        admin_client_root,
        action_url(order, "ship"),
        shipment=shipment.pk,
        tracking_number="1Z",
        invoice_number="INV-1",
    )
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert (shipment.shipment_date, shipment.tracking_number) == (timezone.localdate(), "1Z")
    item.refresh_from_db()
    sent = StockItem.objects.get(customer=customer)
    assert (item.quantity, sent.quantity, sent.sales_order) == (20, 10, order)
    entry = sent.tracking.get(tracking_type=H.SHIPPED_AGAINST_SALES_ORDER)
    assert entry.user.username == "root"
    assert SalesOrderLine.objects.get().shipped == 10
    post_action(admin_client_root, action_url(order, "complete"))
    assert SalesOrder.objects.get().status == S.SHIPPED


# ---------------------------------------------------------------- shipment admin


SHIPMENTS = "/admin/orders/salesordershipment/"


def shipment_form(order, **extra):
    data = {
        "order": order.pk,
        "reference": "",
        "tracking_number": "",
        "invoice_number": "",
        "checked_by": "",
        "notes": "",
    }
    data.update(extra)
    return data


def test_shipment_add_change_and_ship_from_its_page(admin_client_root, order, line, item):
    response = admin_client_root.post(SHIPMENTS + "add/", shipment_form(order))
    assert response.status_code == 302
    shipment = SalesOrderShipment.objects.get()
    assert shipment.reference == "1"
    assert root_history(shipment) == ("root", "Shipment created")
    response = admin_client_root.post(
        SHIPMENTS + f"{shipment.pk}/change/",
        shipment_form(order, reference="1", invoice_number="I-9"),
    )
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.invoice_number == "I-9"
    assert root_history(shipment) == ("root", "Shipment edited")

    services.sales_order_issue(order=order, user=None)
    services.sales_order_allocate(line=line, item=item, quantity=3, user=None, shipment=shipment)
    ship_url = SHIPMENTS + f"{shipment.pk}/ship-this/"
    assert ship_url in admin_client_root.get(SHIPMENTS + f"{shipment.pk}/change/").content.decode()
    page = admin_client_root.get(ship_url).content.decode()
    assert "I-9" in page  # the form starts from the shipment's numbers
    response = post_action(admin_client_root, ship_url, shipment=shipment.pk, invoice_number="I-9")
    assert response.status_code == 302
    assert SalesOrderShipment.objects.get().is_shipped
    assert SalesOrderLine.objects.get().shipped == 3


def test_shipment_duplicate_reference_is_refused_inline(admin_client_root, order):
    services.shipment_create(order=order, user=None)
    before = sales_state()
    response = admin_client_root.post(SHIPMENTS + "add/", shipment_form(order, reference="1"))
    assert response.status_code == 200
    assert "This order already has a shipment with this reference." in response.content.decode()
    assert sales_state() == before


def test_deleting_a_pending_shipment_keeps_its_allocations(admin_client_root, order, line, item):
    shipment = services.shipment_create(order=order, user=None)
    services.sales_order_allocate(line=line, item=item, quantity=3, user=None, shipment=shipment)
    response = admin_client_root.post(SHIPMENTS + f"{shipment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SalesOrderShipment.objects.exists()
    assert SalesOrderAllocation.objects.get().shipment is None


def test_closed_order_and_shipped_shipment_pages_render_read_only(
    admin_client_root, order, line, item
):
    services.sales_order_issue(order=order, user=None)
    shipment = services.shipment_create(order=order, user=None)
    services.sales_order_allocate(line=line, item=item, quantity=10, user=None, shipment=shipment)
    services.shipment_complete(shipment=shipment, user=None)
    services.sales_order_complete(order=order, user=None)
    content = admin_client_root.get(change_url(order)).content.decode()
    assert "Shipped" in content and "shipped" in content
    assert 'name="description"' not in content  # closed: only notes stay editable
    assert 'name="notes"' in content
    assert action_url(order, "complete") in content  # Shipped → Complete
    assert action_url(order, "cancel") not in content
    page = admin_client_root.get(SHIPMENTS + f"{shipment.pk}/change/").content.decode()
    assert "– 10 from 10 × Widget (–): shipped" in page
    assert SHIPMENTS + f"{shipment.pk}/ship-this/" not in page
    assert admin_client_root.get(SHIPMENTS + f"{shipment.pk}/delete/").status_code == 403
