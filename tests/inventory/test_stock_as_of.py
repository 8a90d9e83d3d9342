"""Stock as of a date (inventory.selectors_as_of) against a scripted sequence run through the
real services at controlled times: receipts against a purchase order, moves, a split, a
merge, a build consuming stock and completing an output, a sales shipment, a return, a
bulk move job's service and a stock removal. The figures at several moments, per part and
per location, and their difference to today."""

import datetime
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from builds.services.build import (
    build_allocate,
    build_order_complete,
    build_order_create,
    build_output_complete,
    build_output_create,
)
from inventory.choices import StockHistoryCode as H
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from inventory.selectors_as_of import check_when, held_then, stock_as_of
from inventory.services.stock import (
    stock_item_move,
    stock_item_remove,
    stock_item_split,
    stock_items_merge,
)
from inventory.services.stock_bulk import stock_items_move
from orders.choices import ReturnLineOutcome
from orders.services import returns as returns_services
from orders.services import sales as sales_services
from orders.services.purchase import (
    purchase_order_add_line,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive_line,
)
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal
UTC = datetime.UTC


def t(day, hour=12, minute=0):
    return datetime.datetime(2025, 3, day, hour, minute, tzinfo=UTC)


@contextmanager
def at(moment):
    """Run services as if it were ``moment``: simple-history dates its rows with
    ``timezone.now()``; the tracking entries' date default is the function itself (kept
    by the field as ``_get_default``)."""
    date = StockItemTracking._meta.get_field("date")
    with (
        mock.patch("django.utils.timezone.now", return_value=moment),
        mock.patch.object(date, "_get_default", lambda: moment),
    ):
        yield


def per_part(rows):
    return {row.part_name: (row.quantity_then, row.quantity_now) for row in rows}


def then_by_part(when, **filters):
    return {name: then for name, (then, _) in per_part(stock_as_of(when=when, **filters)).items()}


def then_by_location(when, **filters):
    return {
        (row.part_name, row.location_path): row.quantity_then
        for row in stock_as_of(when=when, per_location=True, **filters)
        if row.quantity_then
    }


@pytest.fixture
def world():
    with at(t(1, 8)):
        user = factories.UserFactory(username="clerk")
        electronics = factories.PartCategoryFactory(name="Electronics")
        passives = factories.PartCategoryFactory(name="Passives", parent=electronics)
        mechanical = factories.PartCategoryFactory(name="Mechanical")
        products = factories.PartCategoryFactory(name="Products")
        store = factories.StockLocationFactory(name="Store")
        shelf_a = factories.StockLocationFactory(name="Shelf A", parent=store)
        shelf_b = factories.StockLocationFactory(name="Shelf B", parent=store)
        finished = factories.StockLocationFactory(name="Finished")
        resistor = factories.PartFactory(name="Resistor", category=passives, purchaseable=True)
        screw = factories.PartFactory(name="Screw", category=mechanical, purchaseable=True)
        widget = factories.PartFactory(
            name="Widget", category=products, assembly=True, salable=True
        )
        factories.BomItemFactory(part=widget, sub_part=resistor, quantity=2)
        factories.BomItemFactory(part=widget, sub_part=screw, quantity=4)
        supplier = factories.SupplierFactory(name="Parts Inc")
        customer = factories.CompanyFactory(name="ACME", is_customer=True)
        sp_resistor = factories.SupplierPartFactory(part=resistor, supplier=supplier)
        sp_screw = factories.SupplierPartFactory(part=screw, supplier=supplier)
    return locals()


@pytest.fixture
def script(world):
    """The scripted sequence; returns ``world`` with the moments between its steps."""
    w = world
    user = w["user"]
    with at(t(2)):
        order = purchase_order_create(supplier=w["supplier"], user=user)
        line_r = purchase_order_add_line(
            order=order, supplier_part=w["sp_resistor"], quantity=120, user=user
        )
        line_s = purchase_order_add_line(
            order=order, supplier_part=w["sp_screw"], quantity=50, user=user
        )
        purchase_order_place(order=order, user=user)
    with at(t(3)):  # receipts
        [resistors] = purchase_order_receive_line(
            line=line_r, quantity=100, location=w["shelf_a"], user=user
        )
        [screws] = purchase_order_receive_line(
            line=line_s, quantity=50, location=w["shelf_a"], user=user
        )
    with at(t(5)):  # a partial move (split + move)
        moved = stock_item_move(item=resistors, location=w["shelf_b"], quantity=30, user=user)
    with at(t(7)):  # the rest of the order arrives on shelf B and is merged with the moved stock
        [late] = purchase_order_receive_line(
            line=line_r, quantity=20, location=w["shelf_b"], user=user
        )
        merged = stock_items_merge(items=[moved, late], user=user)
    with at(t(8)):  # a split that stays where it is (no change in what is held)
        stock_item_split(item=resistors, quantity=5, user=user)
    with at(t(10, 9)):  # a build of 5 widgets: 10 resistors, 20 screws
        build = build_order_create(
            part=w["widget"], quantity=5, user=user, destination=w["finished"]
        )
        for part, item, quantity in ((w["resistor"], resistors, 10), (w["screw"], screws, 20)):
            build_allocate(
                line=build.lines.get(bom_item__sub_part=part),
                stock_item=item,
                quantity=quantity,
                user=user,
            )
        [output] = build_output_create(build=build, quantity=5, user=user)
    with at(t(10, 15)):
        build_output_complete(build=build, output=output, user=user)
        build_order_complete(build=build, user=user)
    with at(t(12)):  # 3 widgets shipped
        so = sales_services.sales_order_create(customer=w["customer"], user=user)
        so_line = sales_services.sales_order_add_line(
            order=so, part=w["widget"], quantity=3, user=user
        )
        sales_services.sales_order_issue(order=so, user=user)
        shipment = sales_services.shipment_create(order=so, user=user)
        output = StockItem.objects.get(part=w["widget"])
        sales_services.sales_order_allocate(
            line=so_line, item=output, quantity=3, user=user, shipment=shipment
        )
        sales_services.shipment_complete(shipment=shipment, user=user)
    with at(t(15)):  # one comes back, onto shelf B
        shipped = StockItem.objects.get(part=w["widget"], customer=w["customer"])
        rma = returns_services.return_order_create(customer=w["customer"], user=user)
        rma_line = returns_services.return_order_add_line(
            order=rma, item=shipped, quantity=1, user=user, outcome=ReturnLineOutcome.RETURN
        )
        returns_services.return_order_issue(order=rma, user=user)
        returns_services.return_order_receive_line(
            line=rma_line, location=w["shelf_b"], user=user, status=StockStatus.OK
        )
    with at(t(18)):  # a bulk move (INSERT … SELECT history) and a removal
        stock_items_move(items=[merged], location=w["shelf_a"], user=user)
        stock_item_remove(item=StockItem.objects.get(pk=screws.pk), quantity=5, user=user)
    return w


# entries that record an event on an item whose own fields do not change (a move to where it
# already is; a component installed into or removed from it): no history row is needed
EVENT_ONLY = (H.STOCK_UPDATE, H.INSTALLED_CHILD_ITEM, H.REMOVED_CHILD_ITEM)


def test_before_anything_was_received_nothing_was_held(script):
    assert then_by_part(t(2, 23)) == {"Resistor": 0, "Screw": 0, "Widget": 0}


def test_quantities_per_part_at_each_moment(script):
    assert then_by_part(t(3, 13)) == {"Resistor": 100, "Screw": 50, "Widget": 0}
    assert then_by_part(t(5, 13)) == {"Resistor": 100, "Screw": 50, "Widget": 0}
    assert then_by_part(t(7, 13)) == {"Resistor": 120, "Screw": 50, "Widget": 0}
    assert then_by_part(t(8, 13)) == {"Resistor": 120, "Screw": 50, "Widget": 0}
    # allocated and an output in production: nothing changes hands yet
    assert then_by_part(t(10, 12)) == {"Resistor": 120, "Screw": 50, "Widget": 0}
    # completed: components consumed, the output is stock
    assert then_by_part(t(10, 16)) == {"Resistor": 110, "Screw": 30, "Widget": 5}
    assert then_by_part(t(12, 13)) == {"Resistor": 110, "Screw": 30, "Widget": 2}
    assert then_by_part(t(15, 13)) == {"Resistor": 110, "Screw": 30, "Widget": 3}
    assert then_by_part(t(18, 13)) == {"Resistor": 110, "Screw": 25, "Widget": 3}


def test_the_moment_of_a_change_counts_the_change(script):
    assert then_by_part(t(3))["Resistor"] == 100
    assert then_by_part(t(3) - datetime.timedelta(microseconds=1))["Resistor"] == 0


def test_today_and_the_difference(script):
    rows = {row.part_name: row for row in stock_as_of(when=t(7, 13))}
    assert {name: row.quantity_now for name, row in rows.items()} == {
        "Resistor": 110,
        "Screw": 25,
        "Widget": 3,
    }
    assert {name: row.difference for name, row in rows.items()} == {
        "Resistor": -10,
        "Screw": -25,
        "Widget": 3,
    }
    # today's figure is the one the stock pages show
    for row in rows.values():
        in_stock = StockItem.objects.in_stock().filter(part_id=row.part_id)
        assert row.quantity_now == sum(item.quantity for item in in_stock)


def test_per_location(script):
    w = script
    a, b, fin = (w[k].pathstring for k in ("shelf_a", "shelf_b", "finished"))
    assert then_by_location(t(5, 13)) == {
        ("Resistor", a): 70,
        ("Resistor", b): 30,
        ("Screw", a): 50,
    }
    assert then_by_location(t(10, 16)) == {
        ("Resistor", a): 60,
        ("Resistor", b): 50,
        ("Screw", a): 30,
        ("Widget", fin): 5,
    }
    assert then_by_location(t(15, 13)) == {
        ("Resistor", a): 60,
        ("Resistor", b): 50,
        ("Screw", a): 30,
        ("Widget", fin): 2,
        ("Widget", b): 1,
    }
    rows = stock_as_of(when=t(15, 13), per_location=True)
    by_key = {(r.part_name, r.location_path): (r.quantity_then, r.quantity_now) for r in rows}
    # the bulk move brought shelf B's resistors to shelf A after that moment
    assert by_key[("Resistor", b)] == (50, 0)
    assert by_key[("Resistor", a)] == (60, 110)
    assert by_key[("Widget", b)] == (1, 1)


def test_location_subtree_filter(script):
    w = script
    assert then_by_part(t(15, 13), location=w["store"]) == {
        "Resistor": 110,
        "Screw": 30,
        "Widget": 1,
    }
    assert then_by_part(t(15, 13), location=w["shelf_b"]) == {"Resistor": 50, "Widget": 1}
    assert then_by_part(t(15, 13), location=w["finished"]) == {"Widget": 2}
    rows = {r.part_name: r for r in stock_as_of(when=t(15, 13), location=w["shelf_b"])}
    assert (rows["Resistor"].quantity_now, rows["Widget"].quantity_now) == (0, 1)


def test_category_subtree_and_part_filters(script):
    w = script
    assert then_by_part(t(10, 16), category=w["electronics"]) == {"Resistor": 110}
    assert then_by_part(t(10, 16), category=w["passives"]) == {"Resistor": 110}
    assert then_by_part(t(10, 16), category=w["products"]) == {"Widget": 5}
    assert then_by_part(t(10, 16), part=w["screw"]) == {"Screw": 30}
    assert then_by_part(t(10, 16), part=w["screw"], category=w["electronics"]) == {}


def test_deleted_items_count_until_they_were_deleted(script):
    # the merge deleted the received item on shelf B: its quantity is in the merged one
    late_items = StockItem.history.filter(history_type="-").values_list("id", flat=True)
    assert late_items
    assert not held_then(when=t(18, 13)).filter(id__in=list(late_items)).exists()


def test_every_tracking_entry_of_the_script_has_a_history_row_in_its_transaction(script):
    """The claim the reconstruction rests on: each tracking entry's item has a history row
    written at the same moment (every service of the script ran at a distinct time)."""
    history = StockItem.history.model
    entries = StockItemTracking.objects.exclude(tracking_type__in=EVENT_ONLY)
    assert entries.count() > 20
    for entry in entries:
        assert history.objects.filter(id=entry.item_id, history_date=entry.date).exists(), (
            entry.get_tracking_type_display()
        )


def test_future_and_naive_dates(script):
    with pytest.raises(ValueError, match="future"):
        stock_as_of(when=timezone.now() + datetime.timedelta(minutes=5))
    naive = datetime.datetime(2025, 3, 3, 13)
    assert check_when(naive).tzinfo is not None
    assert then_by_part(naive)["Resistor"] == 100


def snapshot():
    """What is held now, per part and per (part, location), from the live stock items."""
    per_part, per_location = {}, {}
    for item in StockItem.objects.in_stock().select_related("part", "location"):
        name = item.part.name
        path = item.location.pathstring if item.location_id else ""
        per_part[name] = per_part.get(name, 0) + item.quantity
        per_location[(name, path)] = per_location.get((name, path), 0) + item.quantity
    return per_part, per_location


def test_every_other_stock_operation_is_reconstructed_exactly(world):
    """Each remaining stock service (and the bulk status change) at its own moment: the
    figures as of each moment equal what the live stock held right after it, and each of its
    tracking entries has the item's history row of the same moment."""
    from builds.services.build_outputs import build_output_scrap
    from inventory.services.stock import (
        stock_item_assign_to_customer,
        stock_item_change_status,
        stock_item_count,
        stock_item_create,
        stock_item_delete,
        stock_item_install,
        stock_item_return_from_customer,
        stock_item_serialize,
        stock_item_uninstall,
        stock_location_delete,
        stock_location_move_items,
    )
    from inventory.services.stock_bulk import stock_items_change_status
    from inventory.services.stock_edits import stock_item_update

    w = world
    user = w["user"]
    sensor = factories.PartFactory(name="Sensor", trackable=True, category=w["passives"])
    gadget = factories.PartFactory(name="Gadget", assembly=True, trackable=True)
    temporary = factories.StockLocationFactory(name="Temporary", parent=w["store"])
    steps = []

    def step(day, operation):
        with at(t(day)):
            operation()
        steps.append((t(day), snapshot()))

    created = {}
    step(
        2,
        lambda: created.update(
            sensors=stock_item_create(part=sensor, quantity=6, location=w["shelf_a"], user=user)
        ),
    )
    step(
        3,
        lambda: created.update(
            units=stock_item_serialize(
                item=created["sensors"][0], quantity=3, serials="1-3", user=user
            )
        ),
    )
    step(
        4,
        lambda: created.update(
            gadgets=stock_item_create(
                part=gadget, quantity=1, serials="G1", location=w["shelf_b"], user=user
            )
        ),
    )
    step(
        5,
        lambda: stock_item_install(item=created["units"][0], into=created["gadgets"][0], user=user),
    )
    step(6, lambda: stock_item_uninstall(item=created["units"][0], location=temporary, user=user))
    step(7, lambda: stock_item_count(item=created["sensors"][0], quantity=2, user=user))
    step(
        8,
        lambda: stock_item_change_status(
            item=created["units"][1], status=StockStatus.DAMAGED, user=user
        ),
    )
    step(
        9,
        lambda: stock_items_change_status(
            items=[created["units"][1], created["units"][2]],
            status=StockStatus.QUARANTINED,
            user=user,
        ),
    )
    step(
        10,
        lambda: stock_item_assign_to_customer(
            item=created["gadgets"][0], customer=w["customer"], user=user
        ),
    )
    step(
        11,
        lambda: stock_item_return_from_customer(
            item=StockItem.objects.get(pk=created["gadgets"][0].pk),
            location=w["finished"],
            user=user,
        ),
    )
    step(12, lambda: stock_item_update(item=created["sensors"][0], batch="B-7", user=user))
    step(
        13,
        lambda: stock_location_move_items(location=temporary, destination=w["shelf_b"], user=user),
    )
    step(14, lambda: stock_location_delete(location=temporary, user=user))
    step(
        15,
        lambda: stock_item_delete(item=StockItem.objects.get(pk=created["units"][2].pk), user=user),
    )
    with at(t(16)):
        build = build_order_create(
            part=w["widget"], quantity=2, user=user, destination=w["finished"]
        )
        [output] = build_output_create(build=build, quantity=2, user=user)
    steps.append((t(16), snapshot()))
    step(17, lambda: build_output_scrap(build=build, output=output, user=user))
    step(18, lambda: stock_item_remove(item=created["sensors"][0], quantity=2, user=user))

    for moment, (per_part_then, per_location_then) in steps:
        held = {r.part_name: r.quantity_then for r in stock_as_of(when=moment) if r.quantity_then}
        assert held == per_part_then, moment
        # the temporary location was deleted since: shown by its last name
        expected = {
            (name, "Temporary (deleted location)" if path == "Store/Temporary" else path): value
            for (name, path), value in per_location_then.items()
        }
        assert then_by_location(moment) == expected, moment
    history = StockItem.history.model
    for entry in StockItemTracking.objects.exclude(tracking_type__in=EVENT_ONLY):
        assert history.objects.filter(id=entry.item_id, history_date=entry.date).exists(), (
            entry.get_tracking_type_display()
        )
