"""Items that left our stock (consumed, shipped, installed, with a customer) stay as they are.

Every stock service refuses them, with a message saying why, and changes nothing; only the
operations made for a state change it (return from customer, uninstall). The stock list
hides them unless the state filter asks for them; the item page says what happened.
"""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from builds.models import BuildItem
from builds.services.build import build_order_create
from builds.services.build_stock import consume_allocation
from inventory.choices import StockHistoryCode as H
from inventory.models import StockItem, StockItemTracking
from inventory.models.stock import StockItemState
from inventory.services.common import OPERATIONS, check_item_changeable, describe_state
from inventory.services.stock import (
    stock_item_add,
    stock_item_assign_to_customer,
    stock_item_change_status,
    stock_item_count,
    stock_item_delete,
    stock_item_install,
    stock_item_move,
    stock_item_remove,
    stock_item_return_from_customer,
    stock_item_serialize,
    stock_item_split,
    stock_item_uninstall,
    stock_items_merge,
)
from inventory.services.stock_edits import stock_item_update
from tests.factories import (
    BomItemFactory,
    BuildOrderFactory,
    CompanyFactory,
    PartFactory,
    SalesOrderFactory,
    StockItemFactory,
    StockLocationFactory,
)
from tests.inventory.conftest import db_state, reload

pytestmark = pytest.mark.django_db

WHEN = timezone.make_aware(datetime.datetime(2026, 11, 3, 10, 30))


def full_state() -> dict:
    """db_state plus the fields that make the states."""
    return {
        **db_state(),
        "links": list(
            StockItem.objects.order_by("pk").values_list(
                "pk", "consumed_by", "sales_order", "belongs_to", "customer", "batch", "notes"
            )
        ),
    }


@pytest.fixture
def shelf(db):
    return StockLocationFactory(name="Shelf")


@pytest.fixture
def part(db):
    # trackable (so serialize would otherwise be possible), whole quantities
    return PartFactory(name="Sensor", trackable=True)


def _entered(item, code, **deltas):
    StockItemTracking.objects.create(item=item, tracking_type=code, date=WHEN, deltas=deltas)
    return item


def make_consumed(part, shelf, user):
    build = BuildOrderFactory(reference="BO-0006")
    item = StockItemFactory(part=part, quantity=8, location=None, consumed_by=build)
    return _entered(item, H.BUILD_CONSUMED, buildorder=build.pk)


def make_shipped(part, shelf, user):
    order = SalesOrderFactory(customer=CompanyFactory(name="Globex", is_customer=True))
    item = StockItemFactory(
        part=part, quantity=8, location=None, customer=order.customer, sales_order=order
    )
    return _entered(item, H.SHIPPED_AGAINST_SALES_ORDER, sales_order=order.reference)


def make_installed(part, shelf, user):
    assembly = StockItemFactory(part=PartFactory(name="Gateway"), quantity=1, location=shelf)
    item = StockItemFactory(part=part, quantity=8, location=shelf)
    return stock_item_install(item=item, into=assembly, user=user)


def make_with_customer(part, shelf, user):
    item = StockItemFactory(part=part, quantity=8, location=shelf)
    customer = CompanyFactory(name="Initech", is_customer=True)
    return stock_item_assign_to_customer(item=item, customer=customer, user=user)


STATES = {
    StockItemState.CONSUMED: make_consumed,
    StockItemState.SHIPPED: make_shipped,
    StockItemState.INSTALLED: make_installed,
    StockItemState.WITH_CUSTOMER: make_with_customer,
}


def _live(part, shelf, quantity=5):
    return StockItemFactory(part=part, quantity=quantity, location=shelf)


# Every stock service, as (operation name, call(item, live item, place, user)).
SERVICES = {
    "add": lambda i, live, place, user: stock_item_add(item=i, quantity=2, user=user),
    "remove": lambda i, live, place, user: stock_item_remove(item=i, quantity=2, user=user),
    "count": lambda i, live, place, user: stock_item_count(item=i, quantity=3, user=user),
    "split": lambda i, live, place, user: stock_item_split(item=i, quantity=2, user=user),
    "move": lambda i, live, place, user: stock_item_move(item=i, location=place, user=user),
    "move part": lambda i, live, place, user: stock_item_move(
        item=i, location=place, quantity=2, user=user
    ),
    "merge as source": lambda i, live, place, user: stock_items_merge(items=[live, i], user=user),
    "merge as target": lambda i, live, place, user: stock_items_merge(items=[i, live], user=user),
    "serialize": lambda i, live, place, user: stock_item_serialize(
        item=i, quantity=2, serials="100-101", user=user
    ),
    "status": lambda i, live, place, user: stock_item_change_status(item=i, status=50, user=user),
    "assign": lambda i, live, place, user: stock_item_assign_to_customer(
        item=i, customer=CompanyFactory(is_customer=True), user=user
    ),
    "install": lambda i, live, place, user: stock_item_install(item=i, into=live, user=user),
    "install into": lambda i, live, place, user: stock_item_install(item=live, into=i, user=user),
    "edit": lambda i, live, place, user: stock_item_update(item=i, user=user, notes="changed"),
    "delete": lambda i, live, place, user: stock_item_delete(item=i, user=user),
    "uninstall": lambda i, live, place, user: stock_item_uninstall(
        item=i, location=place, user=user
    ),
    "return": lambda i, live, place, user: stock_item_return_from_customer(
        item=i, location=place, user=user
    ),
}

ALLOWED = {
    StockItemState.SHIPPED: {"return"},
    StockItemState.WITH_CUSTOMER: {"return"},
    StockItemState.INSTALLED: {"uninstall"},
}

WHY = {
    StockItemState.CONSUMED: r"was consumed by build BO-0006 on 2026-11-03 and can no longer be changed\.",
    StockItemState.SHIPPED: r"was shipped to Globex against sales order SO-\d+ on 2026-11-03, so it cannot be",
    StockItemState.INSTALLED: r"is installed in 1 × Gateway \(item \d+\) since \d{4}-\d\d-\d\d, so it cannot be",
    StockItemState.WITH_CUSTOMER: r"is with customer Initech since \d{4}-\d\d-\d\d, so it cannot be",
}

REFUSALS = [
    (state, service)
    for state in STATES
    for service in SERVICES
    if service not in ALLOWED.get(state, set())
]


@pytest.mark.parametrize(("state", "service"), REFUSALS)
def test_every_service_refuses_items_that_left_stock(state, service, part, shelf, user):
    item = STATES[state](part, shelf, user)
    live = _live(part, shelf)
    elsewhere = StockLocationFactory(name="Elsewhere")
    assert reload(item).state == state
    before = full_state()

    with pytest.raises(ValidationError) as excinfo:
        SERVICES[service](reload(item), live, elsewhere, user)

    message = " ".join(excinfo.value.messages)
    assert message.startswith(str(reload(item)))
    assert re.search(WHY[state], message), message
    assert full_state() == before


def test_the_consumed_message_names_the_build_and_the_date(part, shelf, user):
    item = make_consumed(part, shelf, user)
    live = _live(part, shelf)
    with pytest.raises(ValidationError) as excinfo:
        stock_items_merge(items=[live, item], user=user)
    assert excinfo.value.messages == [
        f"{item} was consumed by build BO-0006 on 2026-11-03 and can no longer be changed."
    ]
    assert reload(live).quantity == 5  # the part's stock did not rise


def test_the_message_says_what_to_do_instead(part, shelf, user):
    item = make_installed(part, shelf, user)
    with pytest.raises(ValidationError) as excinfo:
        stock_item_move(item=item, location=StockLocationFactory(), user=user)
    assert excinfo.value.messages[0].endswith("so it cannot be moved: uninstall it first.")


def test_every_operation_is_covered():
    covered = {
        {"move part": "move", "merge as source": "merge", "merge as target": "merge"}.get(
            name, name.replace(" ", "_")
        )
        for name in SERVICES
    }
    assert covered == set(OPERATIONS)


def test_unknown_operation_is_a_programming_error(part, shelf):
    with pytest.raises(ValueError):
        check_item_changeable(_live(part, shelf), "teleport")


# ---------------------------------------------------------------- what stays allowed


def test_installed_items_can_be_uninstalled(part, shelf, user):
    item = make_installed(part, shelf, user)
    back = stock_item_uninstall(item=item, location=shelf, user=user)
    assert back.state is None
    assert back.is_in_stock


@pytest.mark.parametrize("state", [StockItemState.SHIPPED, StockItemState.WITH_CUSTOMER])
def test_items_with_the_customer_can_be_returned(state, part, shelf, user):
    item = STATES[state](part, shelf, user)
    back = stock_item_return_from_customer(item=item, location=shelf, user=user, merge=False)
    back = reload(back)
    assert (back.customer, back.sales_order, back.location) == (None, None, shelf)
    assert back.state is None
    assert back.is_in_stock
    stock_item_add(item=back, quantity=1, user=user)  # ours again
    assert reload(back).quantity == 9


def test_a_partial_return_splits_off_what_comes_back(part, shelf, user):
    item = make_shipped(part, shelf, user)
    back = stock_item_return_from_customer(item=item, location=shelf, user=user, quantity=3)
    assert back.pk != item.pk
    assert (back.quantity, back.state, back.location) == (3, None, shelf)
    item = reload(item)
    assert (item.quantity, item.state) == (5, StockItemState.SHIPPED)


def test_consumed_items_cannot_even_be_returned_or_uninstalled(part, shelf, user):
    item = make_consumed(part, shelf, user)
    for service in ("return", "uninstall"):
        before = full_state()
        with pytest.raises(ValidationError, match="can no longer be changed"):
            SERVICES[service](item, None, shelf, user)
        assert full_state() == before


def test_a_real_build_consumption_is_refused_too(part, shelf, user):
    assembly = PartFactory(name="Hub", assembly=True)
    bom = BomItemFactory(part=assembly, sub_part=part, quantity=1)
    build = build_order_create(part=assembly, quantity=8, user=user, destination=shelf)
    stock = _live(part, shelf, quantity=20)
    line = build.lines.get(bom_item=bom)
    allocation = BuildItem.objects.create(build_line=line, stock_item=stock, quantity=8)
    used = consume_allocation(allocation, build=build, user=user)
    assert used.state == StockItemState.CONSUMED
    with pytest.raises(ValidationError, match=f"consumed by build {build.reference} on "):
        stock_items_merge(items=[stock, used], user=user)
    assert reload(stock).quantity == 12


# ---------------------------------------------------------------- model and queryset


def test_state_property_and_queryset_agree(part, shelf, user):
    items = {state: make(part, shelf, user) for state, make in STATES.items()}
    held = _live(part, shelf)
    for state, item in items.items():
        assert reload(item).state == state
        assert set(StockItem.objects.in_state(state).filter(part=part)) == {item}
    # the assembly the installed item sits in is held; so is the live item
    assert held in StockItem.objects.held()
    assert not (set(items.values()) & set(StockItem.objects.held()))
    assert not (set(items.values()) & set(StockItem.objects.in_stock()))


def test_not_in_stock_and_not_expired_are_the_complements(part, shelf, user):
    today = timezone.localdate()
    items = {state: make(part, shelf, user) for state, make in STATES.items()}
    live = _live(part, shelf)
    others = [
        StockItemFactory(part=part, quantity=1, location=shelf, status=70),  # lost
        StockItemFactory(part=part, quantity=0, location=shelf),
        StockItemFactory(part=part, quantity=1, location=shelf, is_building=True),
        StockItemFactory(part=part, quantity=1, location=shelf, expiry_date=today),
        StockItemFactory(
            part=part, quantity=1, location=shelf, expiry_date=today - datetime.timedelta(days=1)
        ),
        StockItemFactory(
            part=part,
            quantity=1,
            location=shelf,
            status=70,
            expiry_date=today - datetime.timedelta(days=9),
        ),
    ]
    every = {*items.values(), live, *others}
    mine = StockItem.objects.filter(part=part)
    assert set(mine) == every
    for positive, negative in [
        (mine.in_stock(), mine.not_in_stock()),
        (mine.expired(), mine.not_expired()),
    ]:
        assert set(positive) | set(negative) == every
        assert not set(positive) & set(negative)
    assert set(mine.expired()) == {others[4]}


def test_the_in_stock_and_expired_filters_match_the_querysets(admin_client_root, part, shelf, user):
    for make in STATES.values():
        make(part, shelf, user)
    _live(part, shelf)
    StockItemFactory(part=part, quantity=1, location=shelf, status=70)
    StockItemFactory(
        part=part,
        quantity=1,
        location=shelf,
        expiry_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    held = StockItem.objects.held()
    assert _rows(admin_client_root, "?in_stock=yes") == set(held.in_stock())
    assert _rows(admin_client_root, "?in_stock=no") == set(held.not_in_stock())
    assert _rows(admin_client_root, "?expired=yes") == set(held.expired())
    assert _rows(admin_client_root, "?expired=no") == set(held.not_expired())
    assert len(_rows(admin_client_root, "?expired=yes")) == 1


def test_the_state_filter_gives_the_same_rows_when_a_state_is_dense(
    admin_client_root, part, shelf, user, monkeypatch
):
    from inventory.admin import stock as stock_admin

    items = {state: make(part, shelf, user) for state, make in STATES.items()}
    monkeypatch.setattr(stock_admin, "SPARSE_STATE_IDS", 0)  # every state takes the plain filter
    for state, item in items.items():
        assert _rows(admin_client_root, f"?state={state.value}") == {item}


def test_describe_state_is_empty_for_held_items(part, shelf):
    assert describe_state(_live(part, shelf)) == ""


# ---------------------------------------------------------------- admin


URL = "/admin/inventory/stockitem/"


def _rows(client, query=""):
    response = client.get(URL + query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def test_the_stock_list_hides_items_that_left_stock_unless_asked(
    admin_client_root, part, shelf, user
):
    items = {state: make(part, shelf, user) for state, make in STATES.items()}
    live = _live(part, shelf)
    lost = StockItemFactory(part=part, quantity=1, location=shelf, status=70)
    assembly = reload(items[StockItemState.INSTALLED]).belongs_to

    assert _rows(admin_client_root) == {live, lost, assembly}
    for state, item in items.items():
        assert _rows(admin_client_root, f"?state={state.value}") == {item}
    assert _rows(admin_client_root, "?state=in_stock") == {live, assembly}
    assert _rows(admin_client_root, "?state=all") == {*items.values(), live, lost, assembly}
    content = admin_client_root.get(URL).content.decode()
    assert "Consumed by a build" in content and "With a customer" in content


@pytest.mark.parametrize(
    ("state", "link", "says"),
    [
        (
            StockItemState.CONSUMED,
            "/admin/builds/buildorder/{}/change/",
            "was consumed by build BO-0006 on 2026-11-03",
        ),
        (
            StockItemState.SHIPPED,
            "/admin/orders/salesorder/{}/change/",
            "was shipped to Globex against sales order",
        ),
        (StockItemState.INSTALLED, "/admin/inventory/stockitem/{}/change/", "is installed in"),
        (StockItemState.WITH_CUSTOMER, "/admin/orders/company/{}/change/", "is with customer"),
    ],
)
def test_the_item_page_says_where_it_went(admin_client_root, part, shelf, user, state, link, says):
    item = reload(STATES[state](part, shelf, user))
    target = {
        StockItemState.CONSUMED: item.consumed_by_id,
        StockItemState.SHIPPED: item.sales_order_id,
        StockItemState.INSTALLED: item.belongs_to_id,
        StockItemState.WITH_CUSTOMER: item.customer_id,
    }[state]
    content = admin_client_root.get(f"{URL}{item.pk}/change/").content.decode()
    assert f'href="{link.format(target)}"' in content
    assert f"This item {says}" in content


def test_a_direct_save_of_the_change_form_changes_nothing(admin_client_root, part, shelf, user):
    item = make_consumed(part, shelf, user)
    before = full_state()
    response = admin_client_root.post(
        f"{URL}{item.pk}/change/",
        {"batch": "NEW", "notes": "sneaky", "purchase_price_currency": "EUR"},
    )
    assert response.status_code == 200
    assert "can no longer be changed" in response.content.decode()
    assert full_state() == before


def test_the_change_form_of_a_held_item_still_saves(admin_client_root, part, shelf):
    item = _live(part, shelf)
    response = admin_client_root.post(
        f"{URL}{item.pk}/change/",
        {"batch": "B-7", "notes": "", "purchase_price_currency": "", "delete_on_deplete": "on"},
    )
    assert response.status_code == 302
    assert reload(item).batch == "B-7"


def test_items_that_left_stock_cannot_be_deleted_in_the_admin(admin_client_root, part, shelf, user):
    item = make_with_customer(part, shelf, user)
    before = full_state()
    assert admin_client_root.post(f"{URL}{item.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client_root.post(
        URL, {"action": "delete_selected", "_selected_action": [item.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert full_state() == before


def test_held_items_are_deleted_through_the_service(admin_client_root, part, shelf):
    item = _live(part, shelf)
    response = admin_client_root.post(f"{URL}{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert reload(item) is None
    assert StockItem.history.filter(id=item.pk).latest("history_id").history_type == "-"
