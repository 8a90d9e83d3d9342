"""Purchase order admin: list figures and filters, creating, lines inline, every transition
action (changelist and page buttons) and the receiving form — success and refusals that
change nothing."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from orders.choices import PurchaseOrderStatus as S
from orders.models import PurchaseOrder, PurchaseOrderLine
from orders.services.purchase import (
    purchase_order_add_line,
    purchase_order_create,
    purchase_order_place,
)
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/purchaseorder/"
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def change_url(order):
    return reverse("admin:orders_purchaseorder_change", args=[order.pk])


def detail_url(order, path):
    """An order page's action button (place, hold, complete, cancel, receive)."""
    return f"/admin/orders/purchaseorder/{order.pk}/{path}/"


def state():
    return (
        list(PurchaseOrder.objects.order_by("pk").values_list("pk", "status", "issue_date")),
        list(PurchaseOrderLine.objects.order_by("pk").values_list("pk", "quantity", "received")),
        list(StockItem.objects.order_by("pk").values_list("pk", "quantity")),
        StockItemTracking.objects.count(),
        PurchaseOrder.history.count(),
        PurchaseOrderLine.history.count(),
    )


def run_action(client, action, orders, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in orders], "index": "0"}
    if fields is not None:
        data["apply"] = "1"
        data.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
    return client.post(CHANGELIST, data)


def show_action(client, action, orders):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in orders], "index": "0"}
    return client.post(CHANGELIST, data)


@pytest.fixture
def goods_in():
    return factories.StockLocationFactory(name="Goods in")


@pytest.fixture
def supplier():
    return factories.SupplierFactory(name="Mouser", currency="EUR")


@pytest.fixture
def reel(supplier):
    return factories.SupplierPartFactory(
        supplier=supplier,
        part=factories.PartFactory(name="Resistor 10k"),
        sku="R10K-REEL",
        pack_quantity=100,
    )


@pytest.fixture
def board(supplier):
    return factories.SupplierPartFactory(
        supplier=supplier, part=factories.PartFactory(name="Controller", trackable=True), sku="CTRL"
    )


@pytest.fixture
def order(supplier, superuser, goods_in, reel):
    order = purchase_order_create(supplier=supplier, user=superuser, destination=goods_in)
    purchase_order_add_line(
        order=order, supplier_part=reel, quantity=3, unit_price=Decimal("12.50"), user=superuser
    )
    return order


@pytest.fixture
def placed(order, board, superuser):
    purchase_order_add_line(order=order, supplier_part=board, quantity=2, user=superuser)
    return purchase_order_place(order=order, user=superuser)


# --- list ------------------------------------------------------------------------------------


def test_changelist_shows_status_progress_total_and_overdue(admin_client_root, order):
    factories.PurchaseOrderExtraLineFactory(order=order, price=Decimal("4.5"))
    PurchaseOrder.objects.filter(pk=order.pk).update(target_date=YESTERDAY)
    content = admin_client_root.get(CHANGELIST).content.decode()
    assert "PO-0001" in content and "Mouser" in content
    assert "Pending" in content
    assert "0 of 1" in content  # lines received of total
    assert "42.00 EUR" in content  # 3 × 12.50 + 4.50
    assert re.search(r">\s*overdue\s*</span>", content)  # the badge, not the column title


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=yes", {"PO-0001"}),
        ("overdue=no", {"PO-0002", "PO-0003"}),
        (f"status__exact={S.PLACED}", {"PO-0002"}),
        (f"target_date_from={YESTERDAY:%Y-%m-%d}&target_date_to={YESTERDAY:%Y-%m-%d}", {"PO-0001"}),
    ],
)
def test_filters(admin_client_root, supplier, query, expected):
    factories.PurchaseOrderFactory(supplier=supplier, target_date=YESTERDAY)  # overdue
    factories.PurchaseOrderFactory(status=S.PLACED)
    factories.PurchaseOrderFactory(
        status=S.COMPLETE, target_date=YESTERDAY - datetime.timedelta(days=1)
    )
    response = admin_client_root.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    shown = {ref for ref in ("PO-0001", "PO-0002", "PO-0003") if ref in response.content.decode()}
    assert shown == expected


def test_supplier_filter(admin_client_root, supplier):
    factories.PurchaseOrderFactory(supplier=supplier)
    factories.PurchaseOrderFactory()
    content = admin_client_root.get(
        f"{CHANGELIST}?supplier__id__exact={supplier.pk}"
    ).content.decode()
    assert "PO-0001" in content and "PO-0002" not in content


# --- add and change --------------------------------------------------------------------------


def add_data(supplier, **extra):
    data = {
        "reference": "",
        "supplier": supplier.pk,
        "currency": "",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        "extra_lines-TOTAL_FORMS": "0",
        "extra_lines-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_add_allocates_the_next_reference(admin_client_root, supplier, reel, superuser):
    factories.PurchaseOrderFactory(reference="PO-0007")
    page = admin_client_root.get(reverse("admin:orders_purchaseorder_add")).content.decode()
    assert "Leave empty for the next number (PO-0008)" in page
    data = add_data(
        supplier,
        description="Resistors",
        **{
            "lines-TOTAL_FORMS": "1",
            "lines-0-supplier_part": reel.pk,
            "lines-0-quantity": "2",
            "lines-0-unit_price": "",
        },
    )
    response = admin_client_root.post(reverse("admin:orders_purchaseorder_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    order = PurchaseOrder.objects.get(reference="PO-0008")
    assert (order.status, order.currency, order.created_by) == (S.PENDING, "EUR", superuser)
    assert order.lines.get().quantity == 2


def test_inline_line_without_price_takes_the_price_break(admin_client_root, supplier, reel):
    factories.SupplierPriceBreakFactory(supplier_part=reel, quantity=1, price=10, currency="EUR")
    factories.SupplierPriceBreakFactory(supplier_part=reel, quantity=5, price=9, currency="EUR")
    factories.SupplierPriceBreakFactory(supplier_part=reel, quantity=6, price=1, currency="USD")
    data = add_data(
        supplier,
        **{
            "lines-TOTAL_FORMS": "1",
            "lines-0-supplier_part": reel.pk,
            "lines-0-quantity": "6",
            "lines-0-unit_price": "",
        },
    )
    response = admin_client_root.post(reverse("admin:orders_purchaseorder_add"), data)
    assert response.status_code == 302
    assert PurchaseOrderLine.objects.get().unit_price == 9  # the EUR break for 6 packs


def test_add_with_reference_not_matching_the_pattern(admin_client_root, supplier):
    response = admin_client_root.post(
        reverse("admin:orders_purchaseorder_add"), add_data(supplier, reference="ORDER-9")
    )
    assert response.status_code == 200
    assert "does not match the pattern (e.g. PO-0001)" in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def test_add_refuses_contact_of_another_company(admin_client_root, supplier):
    contact = factories.ContactFactory(
        company=factories.SupplierFactory(name="Digikey"), name="Jane"
    )
    response = admin_client_root.post(
        reverse("admin:orders_purchaseorder_add"), add_data(supplier, contact=contact.pk)
    )
    assert response.status_code == 200
    assert "Jane is a contact of Digikey, not of Mouser." in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def line_formset(order, **rows):
    lines = list(order.lines.order_by("pk"))
    data = {
        "supplier": order.supplier_id,
        "currency": order.currency,
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(len(lines)),
        "extra_lines-TOTAL_FORMS": "0",
        "extra_lines-INITIAL_FORMS": "0",
        "destination": order.destination_id or "",
    }
    for i, line in enumerate(lines):
        data.update(
            {
                f"lines-{i}-id": line.pk,
                f"lines-{i}-order": order.pk,
                f"lines-{i}-supplier_part": line.supplier_part_id,
                f"lines-{i}-quantity": str(line.quantity),
                f"lines-{i}-unit_price": "" if line.unit_price is None else str(line.unit_price),
            }
        )
    data.update({k.replace("__", "-"): v for k, v in rows.items()})
    return data


def test_inline_line_with_supplier_part_of_another_supplier_is_refused(admin_client_root, order):
    foreign = factories.SupplierPartFactory(
        supplier=factories.SupplierFactory(name="Digikey"), sku="D-1"
    )
    before = state()
    data = line_formset(order, **{"lines__0__supplier_part": foreign.pk})
    response = admin_client_root.post(change_url(order), data)
    assert response.status_code == 200
    assert "Digikey D-1 is sold by Digikey, not by this order&#x27;s supplier Mouser." in (
        response.content.decode()
    )
    assert state() == before


def test_inline_line_quantity_below_received_and_delete_of_received_line(admin_client_root, order):
    line = order.lines.get()
    PurchaseOrderLine.objects.filter(pk=line.pk).update(received=2)
    before = state()
    response = admin_client_root.post(
        change_url(order), line_formset(order, lines__0__quantity="1")
    )
    assert "2 already received: the quantity cannot be less." in response.content.decode()
    response = admin_client_root.post(change_url(order), line_formset(order, lines__0__DELETE="on"))
    assert "already received, so the line cannot be deleted." in response.content.decode()
    assert state() == before


def test_inline_edit_of_open_order_saves(admin_client_root, order):
    response = admin_client_root.post(
        change_url(order), line_formset(order, lines__0__quantity="5")
    )
    assert response.status_code == 302
    assert order.lines.get().quantity == 5


def test_lines_are_read_only_on_a_closed_order(admin_client_root, order):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.COMPLETE)
    content = admin_client_root.get(change_url(order)).content.decode()
    assert 'name="lines-0-quantity"' not in content
    assert "R10K-REEL" in content


# --- transitions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["place_orders", "hold_orders", "complete_orders", "cancel_orders", "receive_order"]
)
def test_each_action_shows_its_form_first(admin_client_root, placed, action):
    if action == "place_orders":
        PurchaseOrder.objects.filter(pk=placed.pk).update(status=S.PENDING)
    response = show_action(admin_client_root, action, [placed])
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="apply"' in content and f'value="{action}"' in content
    assert "PO-0001" in content


def test_place_action(admin_client_root, order, superuser):
    response = run_action(admin_client_root, "place_orders", [order])
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.issue_date) == (S.PLACED, timezone.localdate())
    record = PurchaseOrder.history.filter(id=order.pk).order_by("-history_id").first()
    assert (record.history_user, record.history_change_reason) == (superuser, "Placed (Placed)")


def test_place_action_refusal_for_one_order_changes_nothing(admin_client_root, order, supplier):
    empty = factories.PurchaseOrderFactory(supplier=supplier)
    before = state()
    response = run_action(admin_client_root, "place_orders", [order, empty])
    assert response.status_code == 200
    assert f"{empty.reference} has no lines" in response.content.decode()
    assert state() == before


def test_hold_and_cancel_actions(admin_client_root, order):
    run_action(admin_client_root, "hold_orders", [order])
    assert PurchaseOrder.objects.get(pk=order.pk).status == S.ON_HOLD
    run_action(admin_client_root, "cancel_orders", [order])
    assert PurchaseOrder.objects.get(pk=order.pk).status == S.CANCELLED
    before = state()
    response = run_action(admin_client_root, "hold_orders", [order])
    assert "PO-0001 is Cancelled: it can only be put on hold when Pending or Placed." in (
        response.content.decode()
    )
    assert state() == before


def test_complete_action_needs_acceptance_of_missing_quantities(admin_client_root, placed):
    before = state()
    response = run_action(admin_client_root, "complete_orders", [placed])
    assert "2 lines are not fully received" in response.content.decode()
    assert state() == before
    response = run_action(admin_client_root, "complete_orders", [placed], accept_incomplete="on")
    assert response.status_code == 302
    assert PurchaseOrder.objects.get(pk=placed.pk).status == S.COMPLETE


def test_page_buttons_match_the_status(admin_client_root, order, placed):
    content = admin_client_root.get(change_url(placed)).content.decode()
    for path in ("receive", "hold", "complete", "cancel"):
        assert detail_url(placed, path) in content
    assert detail_url(placed, "place") not in content
    PurchaseOrder.objects.filter(pk=placed.pk).update(status=S.COMPLETE)
    content = admin_client_root.get(change_url(placed)).content.decode()
    for path in ("receive", "hold", "complete", "cancel", "place"):
        assert detail_url(placed, path) not in content


def test_page_button_confirms_then_transitions(admin_client_root, order):
    url = detail_url(order, "place")
    response = admin_client_root.get(url)
    assert response.status_code == 200 and 'name="apply"' in response.content.decode()
    assert PurchaseOrder.objects.get(pk=order.pk).status == S.PENDING
    response = admin_client_root.post(url, {"apply": "1"})
    assert response.status_code == 302 and response["Location"] == change_url(order)
    assert PurchaseOrder.objects.get(pk=order.pk).status == S.PLACED


def test_page_button_refusal_is_shown_on_the_form(admin_client_root, supplier):
    empty = factories.PurchaseOrderFactory(supplier=supplier)
    before = state()
    response = admin_client_root.post(detail_url(empty, "place"), {"apply": "1"})
    assert response.status_code == 200
    assert "has no lines" in response.content.decode()
    assert state() == before


def test_transitions_need_the_place_permission(client, order):
    clerk = factories.UserFactory(username="clerk")
    clerk.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_purchaseorder", "change_purchaseorder", "receive_purchaseorder"]
        )
    )
    client.force_login(clerk)
    assert client.get(detail_url(order, "place")).status_code == 403
    content = client.get(change_url(order)).content.decode()
    assert detail_url(order, "place") not in content
    run_action(client, "place_orders", [order])
    assert PurchaseOrder.objects.get(pk=order.pk).status == S.PENDING


# --- receiving -------------------------------------------------------------------------------


def receive_data(placed, **values):
    """The receiving form's fields for every open line, with ``line<N>_<field>`` overrides."""
    data = {"apply": "1"}
    for n, line in enumerate(placed.lines.order_by("pk")):
        for field in ("quantity", "location", "batch", "serials", "status", "expiry_date"):
            default = {"quantity": "0", "status": str(StockStatus.OK)}.get(field, "")
            data[f"line-{line.pk}-{field}"] = str(values.get(f"line{n}_{field}", default))
    if values.get("allow_over_receipt"):
        data["allow_over_receipt"] = "on"
    return data


def test_receive_page_lists_open_lines_with_defaults(admin_client_root, placed, goods_in):
    first, second = placed.lines.order_by("pk")
    PurchaseOrderLine.objects.filter(pk=second.pk).update(received=2)
    content = admin_client_root.get(detail_url(placed, "receive")).content.decode()
    assert "R10K-REEL" in content and "CTRL" not in content  # fully received lines are not offered
    assert "3 of 3 packs outstanding" in content and "(300 units)" in content
    assert f'name="line-{first.pk}-quantity" value="3"' in content
    assert f'<option value="{goods_in.pk}" selected>' in content


def test_receive_form_receives_each_line(admin_client_root, placed, superuser):
    first, second = placed.lines.order_by("pk")
    shelf = factories.StockLocationFactory(name="Shelf A")
    data = receive_data(
        placed,
        line0_quantity=1,
        line0_batch="B1",
        line1_quantity=2,
        line1_serials="10-11",
        line1_location=shelf.pk,
    )
    response = admin_client_root.post(detail_url(placed, "receive"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == change_url(placed)
    reel_item = StockItem.objects.get(part=first.supplier_part.part)
    assert (reel_item.quantity, reel_item.batch, reel_item.purchase_price) == (
        100,
        "B1",
        Decimal("0.125"),
    )
    assert sorted(
        StockItem.objects.filter(part=second.supplier_part.part, location=shelf).values_list(
            "serial", flat=True
        )
    ) == ["10", "11"]
    assert (
        PurchaseOrderLine.objects.get(pk=first.pk).received,
        PurchaseOrderLine.objects.get(pk=second.pk).received,
    ) == (1, 2)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Received 3 stock items against PO-0001."]


def test_receive_everything_completes_the_order(admin_client_root, placed):
    data = receive_data(placed, line0_quantity=3, line1_quantity=2, line1_serials="1-2")
    response = admin_client_root.post(detail_url(placed, "receive"), data)
    assert response.status_code == 302
    assert PurchaseOrder.objects.get(pk=placed.pk).status == S.COMPLETE
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Received 3 stock items against PO-0001. The order is complete."]


def test_receive_refusal_is_shown_on_its_line_and_changes_nothing(admin_client_root, placed):
    first, second = placed.lines.order_by("pk")
    before = state()
    data = receive_data(placed, line0_quantity=1, line1_quantity=5)
    response = admin_client_root.post(detail_url(placed, "receive"), data)
    assert response.status_code == 200
    content = response.content.decode()
    row = content.split(f'id="receive-line-{second.pk}"')[1].split("</tr>")[0]
    assert "Cannot receive 5: only 2 of 2 outstanding." in row
    first_row = content.split(f'id="receive-line-{first.pk}"')[1].split("</tr>")[0]
    assert "Cannot receive" not in first_row
    assert state() == before


def test_receive_over_quantity_when_allowed(admin_client_root, placed):
    first, _ = placed.lines.order_by("pk")
    data = receive_data(placed, line0_quantity=4, allow_over_receipt=True)
    response = admin_client_root.post(detail_url(placed, "receive"), data)
    assert response.status_code == 302
    assert PurchaseOrderLine.objects.get(pk=first.pk).received == 4


def test_receive_with_nothing_entered(admin_client_root, placed):
    before = state()
    response = admin_client_root.post(detail_url(placed, "receive"), receive_data(placed))
    assert "Enter a quantity to receive for at least one line." in response.content.decode()
    assert state() == before


def test_receive_with_a_bad_number_is_a_field_error(admin_client_root, placed):
    before = state()
    response = admin_client_root.post(
        detail_url(placed, "receive"), receive_data(placed, line0_quantity="lots")
    )
    assert "Enter a number." in response.content.decode()
    assert state() == before


def test_receive_on_a_pending_order_is_refused(admin_client_root, order):
    before = state()
    response = admin_client_root.post(
        detail_url(order, "receive"), receive_data(order, line0_quantity=1)
    )
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["PO-0001 is Pending: stock can only be received against a placed order."]
    assert state() == before


def test_receive_from_the_changelist(admin_client_root, placed):
    data = {
        "action": "receive_order",
        ACTION_CHECKBOX_NAME: [str(placed.pk)],
        "index": "0",
        **receive_data(placed, line0_quantity=2),
    }
    response = admin_client_root.post(CHANGELIST, data)
    assert response.status_code == 302
    assert placed.lines.order_by("pk").first().received == 2


def test_receive_from_the_changelist_needs_exactly_one_order(admin_client_root, placed):
    other = factories.PurchaseOrderFactory(supplier=placed.supplier)
    response = show_action(admin_client_root, "receive_order", [placed, other])
    assert response.status_code == 302
    follow = admin_client_root.get(response["Location"])
    assert "Select exactly one purchase order to receive against." in follow.content.decode()


def test_receiving_needs_the_receive_permission(client, placed):
    buyer = factories.UserFactory(username="buyer")
    buyer.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_purchaseorder", "change_purchaseorder", "place_purchaseorder"]
        )
    )
    client.force_login(buyer)
    assert client.get(detail_url(placed, "receive")).status_code == 403
    assert client.get(change_url(placed)).status_code == 200
