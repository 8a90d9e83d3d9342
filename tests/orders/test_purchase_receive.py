"""Receiving against purchase orders (R48): stock in part units, unit prices, tracking,
over-receipt, auto-completion, and the all-or-nothing multi-line receipt."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.choices import StockHistoryCode as H
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from orders.choices import PurchaseOrderStatus as S
from orders.models import PurchaseOrder, PurchaseOrderLine
from orders.services.purchase import (
    ReceiptError,
    purchase_order_add_line,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive_line,
    purchase_order_receive_lines,
)
from tests import factories

pytestmark = pytest.mark.django_db


def state():
    return {
        "orders": list(
            PurchaseOrder.objects.order_by("pk").values_list(
                "pk", "status", "complete_date", "received_by_id"
            )
        ),
        "lines": list(PurchaseOrderLine.objects.order_by("pk").values_list("pk", "received")),
        "items": list(StockItem.objects.order_by("pk").values_list("pk", "quantity")),
        "tracking": StockItemTracking.objects.count(),
        "item_history": StockItem.history.count(),
        "line_history": PurchaseOrderLine.history.count(),
        "order_history": PurchaseOrder.history.count(),
    }


def assert_refused(call, match=None):
    before = state()
    with pytest.raises(ValidationError, match=match) as info:
        call()
    assert state() == before
    return info.value


@pytest.fixture
def user():
    return factories.UserFactory(username="goods-in")


@pytest.fixture
def goods_in():
    return factories.StockLocationFactory(name="Goods in")


@pytest.fixture
def shelf():
    return factories.StockLocationFactory(name="Shelf A")


@pytest.fixture
def supplier():
    return factories.SupplierFactory(name="Mouser", currency="EUR")


@pytest.fixture
def reel(supplier):
    """A supplier part sold in reels of 100 resistors."""
    return factories.SupplierPartFactory(
        supplier=supplier,
        part=factories.PartFactory(name="Resistor 10k", units="pcs"),
        sku="R10K-REEL",
        pack_quantity=100,
    )


@pytest.fixture
def board(supplier):
    """A trackable part sold one by one."""
    return factories.SupplierPartFactory(
        supplier=supplier, part=factories.PartFactory(name="Controller", trackable=True), sku="CTRL"
    )


@pytest.fixture
def order(supplier, user, goods_in):
    return purchase_order_create(supplier=supplier, user=user, destination=goods_in)


@pytest.fixture
def line(order, reel, user):
    """3 reels at 12.50 a reel, on a placed order."""
    line = purchase_order_add_line(
        order=order, supplier_part=reel, quantity=3, unit_price=Decimal("12.50"), user=user
    )
    purchase_order_place(order=order, user=user)
    return line


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_partial_receipt_creates_stock_in_part_units(line, order, reel, goods_in, user):
    items = purchase_order_receive_line(line=line, quantity=1, location=None, user=user)
    assert len(items) == 1
    item = reload(items[0])
    assert item.part == reel.part
    assert item.quantity == 100  # 1 reel × 100
    assert item.location == goods_in  # the order's destination
    assert item.supplier_part == reel and item.purchase_order == order
    assert item.purchase_price == Decimal("0.125")  # 12.50 per reel ÷ 100
    assert item.purchase_price_currency == "EUR"
    assert item.status == StockStatus.OK
    assert reload(line).received == 1
    assert reload(order).status == S.PLACED
    codes = list(item.tracking.order_by("pk").values_list("tracking_type", flat=True))
    assert codes == [H.CREATED, H.RECEIVED_AGAINST_PURCHASE_ORDER]
    received = item.tracking.get(tracking_type=H.RECEIVED_AGAINST_PURCHASE_ORDER)
    assert received.notes == "Received against PO-0001"
    assert received.user == user
    assert received.deltas["purchase_order"] == "PO-0001"
    assert received.deltas["quantity"] == "100"
    record = StockItem.history.filter(id=item.pk).order_by("-history_id").first()
    assert (record.history_user, record.history_change_reason) == (user, "Received against PO-0001")
    line_record = PurchaseOrderLine.history.filter(id=line.pk).order_by("-history_id").first()
    assert (line_record.history_user, line_record.history_change_reason) == (user, "Received 1")


def test_receiving_everything_completes_the_order(line, order, user):
    purchase_order_receive_line(line=line, quantity=1, location=None, user=user)
    purchase_order_receive_line(line=line, quantity=2, location=None, user=user)
    order.refresh_from_db()
    assert reload(line).received == 3
    assert order.status == S.COMPLETE
    assert order.complete_date == timezone.localdate()
    assert order.received_by == user
    record = PurchaseOrder.history.filter(id=order.pk).order_by("-history_id").first()
    assert (record.history_user, record.status) == (user, S.COMPLETE)
    assert (
        sum(StockItem.objects.filter(purchase_order=order).values_list("quantity", flat=True))
        == 300
    )


def test_auto_complete_can_be_switched_off(settings, line, order, user):
    settings.PURCHASE_ORDER_AUTO_COMPLETE = False
    purchase_order_receive_line(line=line, quantity=3, location=None, user=user)
    assert reload(order).status == S.PLACED


def test_auto_complete_waits_for_every_line(order, line, board, user):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.PENDING)
    second = purchase_order_add_line(order=order, supplier_part=board, quantity=2, user=user)
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.PLACED)
    purchase_order_receive_line(line=line, quantity=3, location=None, user=user)
    assert reload(order).status == S.PLACED
    purchase_order_receive_line(line=second, quantity=2, location=None, user=user, serials="1-2")
    assert reload(order).status == S.COMPLETE


@pytest.mark.parametrize("status", [S.PENDING, S.ON_HOLD, S.COMPLETE, S.CANCELLED])
def test_receiving_on_an_order_that_is_not_placed_is_refused(line, order, user, status):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=status)
    error = assert_refused(
        lambda: purchase_order_receive_line(line=line, quantity=1, location=None, user=user),
        "stock can only be received against a placed order",
    )
    assert error.messages == [
        f"PO-0001 is {status.label}: stock can only be received against a placed order."
    ]


def test_over_receipt_is_refused(line, user):
    purchase_order_receive_line(line=line, quantity=2, location=None, user=user)
    error = assert_refused(
        lambda: purchase_order_receive_line(line=line, quantity=2, location=None, user=user)
    )
    assert error.message_dict == {
        "quantity": [
            "Cannot receive 2: only 1 of 3 outstanding. "
            "Receiving more than ordered must be allowed explicitly."
        ]
    }


def test_over_receipt_when_explicitly_allowed(line, order, user):
    purchase_order_receive_line(
        line=line, quantity=4, location=None, user=user, allow_over_receipt=True
    )
    assert reload(line).received == 4
    assert StockItem.objects.get(purchase_order=order).quantity == 400
    assert reload(order).status == S.COMPLETE


@pytest.mark.parametrize("quantity", [0, -1, "x"])
def test_bad_quantity_is_refused(line, user, quantity):
    error = assert_refused(
        lambda: purchase_order_receive_line(line=line, quantity=quantity, location=None, user=user)
    )
    assert "quantity" in error.message_dict


def test_location_chosen_beats_line_destination_beats_order_destination(line, shelf, user):
    other = factories.StockLocationFactory(name="Shelf B")
    [item] = purchase_order_receive_line(line=line, quantity=1, location=other, user=user)
    assert item.location == other
    PurchaseOrderLine.objects.filter(pk=line.pk).update(destination=shelf)
    [item] = purchase_order_receive_line(line=line, quantity=1, location=None, user=user)
    assert item.location == shelf


def test_without_any_location_receiving_is_refused(line, order, user):
    PurchaseOrder.objects.filter(pk=order.pk).update(destination=None)
    error = assert_refused(
        lambda: purchase_order_receive_line(line=line, quantity=1, location=None, user=user)
    )
    assert "location" in error.message_dict


def test_structural_location_is_refused(line, user):
    structural = factories.StockLocationFactory(name="Warehouse", structural=True)
    error = assert_refused(
        lambda: purchase_order_receive_line(line=line, quantity=1, location=structural, user=user)
    )
    assert "structural" in error.message_dict["location"][0]


def test_batch_expiry_and_status_are_recorded(line, user):
    expiry = timezone.localdate() + datetime.timedelta(days=30)
    [item] = purchase_order_receive_line(
        line=line,
        quantity=1,
        location=None,
        user=user,
        batch="B-42",
        expiry_date=expiry,
        status=StockStatus.QUARANTINED,
    )
    item = reload(item)
    assert (item.batch, item.expiry_date, item.status) == ("B-42", expiry, StockStatus.QUARANTINED)


def test_serials_create_one_item_per_serial(order, board, user):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.PENDING)
    line = purchase_order_add_line(
        order=order, supplier_part=board, quantity=3, unit_price=Decimal("40"), user=user
    )
    purchase_order_place(order=order, user=user)
    items = purchase_order_receive_line(
        line=line, quantity=3, location=None, user=user, serials="100-102"
    )
    assert sorted(i.serial for i in items) == ["100", "101", "102"]
    assert all(i.quantity == 1 and i.purchase_price == 40 for i in items)
    assert (
        StockItemTracking.objects.filter(
            item__in=items, tracking_type=H.RECEIVED_AGAINST_PURCHASE_ORDER
        ).count()
        == 3
    )
    assert reload(line).received == 3


def test_serial_count_must_match_and_serials_must_be_free(order, board, user):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.PENDING)
    line = purchase_order_add_line(order=order, supplier_part=board, quantity=3, user=user)
    purchase_order_place(order=order, user=user)
    assert_refused(
        lambda: purchase_order_receive_line(
            line=line, quantity=2, location=None, user=user, serials="1-3"
        )
    )
    factories.StockItemFactory(part=board.part, serial="7", quantity=1)
    error = assert_refused(
        lambda: purchase_order_receive_line(
            line=line, quantity=1, location=None, user=user, serials=["7"]
        )
    )
    assert "already in use" in error.message_dict["serials"][0]


def test_line_without_price_gives_stock_without_price(order, reel, user):
    line = purchase_order_add_line(order=order, supplier_part=reel, quantity=1, user=user)
    purchase_order_place(order=order, user=user)
    [item] = purchase_order_receive_line(line=line, quantity=1, location=None, user=user)
    assert (item.purchase_price, item.purchase_price_currency) == (None, "")


def test_unit_price_is_rounded_to_six_decimals(order, supplier, user):
    sp = factories.SupplierPartFactory(supplier=supplier, pack_quantity=3)
    line = purchase_order_add_line(
        order=order, supplier_part=sp, quantity=1, unit_price=Decimal("10"), user=user
    )
    purchase_order_place(order=order, user=user)
    [item] = purchase_order_receive_line(line=line, quantity=1, location=None, user=user)
    assert reload(item).purchase_price == Decimal("3.333333")


# --- several lines at once -------------------------------------------------------------------


@pytest.fixture
def two_lines(order, reel, board, user):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.PENDING)
    first = purchase_order_add_line(
        order=order, supplier_part=reel, quantity=3, unit_price=Decimal("12.50"), user=user
    )
    second = purchase_order_add_line(order=order, supplier_part=board, quantity=2, user=user)
    purchase_order_place(order=order, user=user)
    return first, second


def test_receive_lines_receives_each_line(two_lines, order, shelf, user):
    first, second = two_lines
    items = purchase_order_receive_lines(
        order=order,
        user=user,
        receipts=[
            {"line": first, "quantity": 2, "location": shelf, "batch": "R1"},
            {"line": second, "quantity": 1, "serials": "5"},
        ],
    )
    assert [(i.part_id, i.quantity, i.serial) for i in items] == [
        (first.supplier_part.part_id, 200, ""),
        (second.supplier_part.part_id, 1, "5"),
    ]
    assert items[0].location == shelf and items[1].location == order.destination
    assert (reload(first).received, reload(second).received) == (2, 1)
    assert reload(order).status == S.PLACED


def test_receive_lines_is_all_or_nothing(two_lines, order, user):
    first, second = two_lines
    error = assert_refused(
        lambda: purchase_order_receive_lines(
            order=order,
            user=user,
            receipts=[
                {"line": first, "quantity": 3},
                {"line": second, "quantity": 5},  # only 2 ordered
            ],
        )
    )
    assert isinstance(error, ReceiptError)
    assert set(error.by_line) == {second.pk}
    assert (
        error.by_line[second.pk]
        .message_dict["quantity"][0]
        .startswith("Cannot receive 5: only 2 of 2 outstanding.")
    )
    assert error.messages[0].startswith(f"{second}: Cannot receive 5")


def test_receive_lines_reports_every_refused_line(two_lines, order, user):
    first, second = two_lines
    structural = factories.StockLocationFactory(name="Warehouse", structural=True)
    error = assert_refused(
        lambda: purchase_order_receive_lines(
            order=order,
            user=user,
            receipts=[
                {"line": first, "quantity": 9},
                {"line": second, "quantity": 1, "location": structural},
            ],
        )
    )
    assert set(error.by_line) == {first.pk, second.pk}
    assert "quantity" in error.by_line[first.pk].message_dict
    assert "location" in error.by_line[second.pk].message_dict


def test_receive_lines_skips_empty_quantities_and_needs_one(two_lines, order, user):
    first, second = two_lines
    assert_refused(
        lambda: purchase_order_receive_lines(
            order=order,
            user=user,
            receipts=[{"line": first, "quantity": 0}, {"line": second, "quantity": None}],
        ),
        "Enter a quantity to receive for at least one line.",
    )
    items = purchase_order_receive_lines(
        order=order,
        user=user,
        receipts=[{"line": first, "quantity": 1}, {"line": second, "quantity": ""}],
    )
    assert len(items) == 1 and reload(second).received == 0


def test_receive_lines_completes_the_order_once_everything_is_in(two_lines, order, user):
    first, second = two_lines
    purchase_order_receive_lines(
        order=order,
        user=user,
        receipts=[
            {"line": first, "quantity": 3},
            {"line": second, "quantity": 2, "serials": "1, 2"},
        ],
    )
    order.refresh_from_db()
    assert (order.status, order.received_by) == (S.COMPLETE, user)


def test_receive_lines_refuses_a_line_of_another_order(two_lines, order, supplier, reel, user):
    other = purchase_order_create(supplier=supplier, user=user)
    foreign = purchase_order_add_line(order=other, supplier_part=reel, quantity=1, user=user)
    error = assert_refused(
        lambda: purchase_order_receive_lines(
            order=order, user=user, receipts=[{"line": foreign, "quantity": 1}]
        )
    )
    assert error.by_line[foreign.pk].messages == [f"{foreign} is not a line of PO-0001."]


def test_receive_lines_on_a_pending_order_is_refused(two_lines, order, user):
    first, _ = two_lines
    PurchaseOrder.objects.filter(pk=order.pk).update(status=S.PENDING)
    assert_refused(
        lambda: purchase_order_receive_lines(
            order=order, user=user, receipts=[{"line": first, "quantity": 1}]
        ),
        "PO-0001 is Pending",
    )
