"""The home page: what each demo account sees, where the figures link, how many queries."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from admin_customisations.dashboard import figures, widgets
from admin_customisations.dashboard.models import DashboardSnapshot
from admin_customisations.dashboard.snapshot import refresh_snapshot
from admin_customisations.schedules import SCHEDULES
from builds.choices import BuildStatus
from tests.dashboard.conftest import DEMO, login, make_dataset
from tests.factories import (
    BuildOrderFactory,
    PartCategoryFactory,
    PartFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    StockItemFactory,
)

pytestmark = pytest.mark.django_db

ALL_KPIS = ["parts", "stock_value", "expiring", "purchase_orders", "sales_orders", "builds", "jobs"]
ALL_CHARTS = ["stock_value_by_category", "order_value_by_month", "builds_completed_by_week"]
ALL_SECTIONS = [
    "my_notifications",
    "my_purchase_orders",
    "my_sales_orders",
    "my_return_orders",
    "my_builds",
    "my_jobs",
]
EXPECTED = {
    # account: (KPI cards, charts, my work sections, action links shown)
    "admin": (ALL_KPIS, ALL_CHARTS, ALL_SECTIONS, True),
    "allaccess": (ALL_KPIS, ALL_CHARTS, ALL_SECTIONS, True),
    "reader": (ALL_KPIS, ALL_CHARTS, ALL_SECTIONS, False),
    # engineering: parts, stock and builds (view); no purchasing or sales figures
    "engineer": (
        ["parts", "stock_value", "expiring", "builds", "jobs"],
        ["stock_value_by_category", "builds_completed_by_week"],
        ["my_notifications", "my_builds", "my_jobs"],
        False,
    ),
}


def page(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return response, response.content.decode()


def found(attribute, html):
    return re.findall(rf'data-{attribute}="(\w+)"', html)


@pytest.mark.parametrize("username", DEMO)
def test_each_demo_account_sees_what_its_roles_allow(client, demo_users, username):
    user = demo_users[username]
    make_dataset(2, owner=user)
    kpis, charts, sections, actions = EXPECTED[username]
    _, html = page(login(client, user))
    assert found("kpi", html) == kpis
    assert found("chart", html) == charts
    assert found("section", html) == sections
    assert ("data-action-link" in html) is actions
    assert "data-recent-changes" in html
    if "purchase_orders" not in kpis:  # no purchasing figures anywhere on the page
        assert "/admin/orders/purchaseorder/" not in html
        assert "/admin/orders/salesorder/" not in html


def test_reader_sees_no_receive_or_new_links_but_admin_does(client, demo_users):
    make_dataset(2, owner=demo_users["reader"])
    _, html = page(login(client, demo_users["reader"]))
    assert "/receive/" not in html and "/add/" not in html
    make_dataset(2, owner=demo_users["allaccess"])
    _, html = page(login(client, demo_users["allaccess"]))
    assert "/admin/orders/purchaseorder/add/" in html
    assert re.search(r"/admin/orders/purchaseorder/\d+/receive/", html)


def _kpi_links(html):
    """{(kpi key, "value" or "extra"): (figure shown, URL)}."""
    links = {}
    for block in html.split('data-kpi="')[1:]:
        key = block.split('"', 1)[0]
        block = block.split('data-kpi="', 1)[0]
        for url, which, text in re.findall(
            r'<a href="([^"]+)"[^>]*data-kpi-link="(\w+)">([^<]+)</a>', block
        ):
            figure = int(re.match(r"[\d,]+", text.strip())[0].replace(",", ""))
            links[(key, which)] = (figure, url.replace("&amp;", "&"))
    return links


def test_every_figure_links_to_a_changelist_showing_the_same_rows(client, demo_users):
    admin = demo_users["admin"]
    make_dataset(3, owner=admin)
    login(client, admin)
    _, html = page(client)
    links = _kpi_links(html)
    assert set(links) == {
        ("parts", "value"),
        ("parts", "extra"),
        ("stock_value", "value"),  # a sum: its link is the in-stock list
        ("expiring", "value"),
        ("expiring", "extra"),
        ("purchase_orders", "value"),
        ("purchase_orders", "extra"),
        ("sales_orders", "value"),
        ("sales_orders", "extra"),
        ("builds", "value"),
        ("builds", "extra"),
        ("jobs", "value"),
        ("jobs", "extra"),
    }
    expected = {
        ("parts", "extra"): 3,  # low stock
        ("expiring", "value"): 3,
        ("expiring", "extra"): 3,  # expired
        ("purchase_orders", "value"): 3,
        ("purchase_orders", "extra"): 1,
        ("sales_orders", "extra"): 1,
        ("builds", "value"): 3,
        ("builds", "extra"): 1,
        ("jobs", "value"): 1,
        ("jobs", "extra"): 2,
    }
    for key, (figure, url) in links.items():
        if key in expected:
            assert figure == expected[key], key
        response = client.get(url)
        # a parameter the list does not know is answered with a redirect to "?e=1"
        assert response.status_code == 200, (key, url)
        changelist = response.context["cl"]
        if key == ("stock_value", "value"):
            assert changelist.result_count == 3 * 3  # the in-stock items
            continue
        assert changelist.result_count == figure, (key, url)


def test_the_stock_value_is_the_in_stock_items_at_purchase_price(demo_users):
    category = PartCategoryFactory(name="Electronics")
    sub = PartCategoryFactory(name="Passives", parent=category)
    other = PartCategoryFactory(name="Mechanical")
    StockItemFactory(part=PartFactory(category=sub), quantity=4, purchase_price=Decimal("2.5"))
    StockItemFactory(part=PartFactory(category=other), quantity=2, purchase_price=Decimal("1"))
    StockItemFactory(
        part=PartFactory(category=other), quantity=9, purchase_price=Decimal("1"), status=60
    )  # destroyed: not in stock
    StockItemFactory(part=PartFactory(category=other), quantity=9)  # no price
    data = refresh_snapshot().data
    assert data["stock_value"] == {"": "12.00"}
    assert data["value_by_category"] == [
        ["Electronics", {"": "10.00"}],
        ["Mechanical", {"": "2.00"}],
    ]
    chart = widgets.stock_value_chart(demo_users["reader"], DashboardSnapshot.objects.get())
    assert chart.data["labels"] == ["Electronics", "Mechanical"]
    assert chart.data["datasets"][0]["data"] == [10.0, 2.0]


def test_order_values_per_month_and_builds_per_week(demo_users):
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    for day, price in ((today, "10"), (today, "5"), (last_month, "1")):
        order = PurchaseOrderFactory(issue_date=day, status=20, currency="EUR")
        PurchaseOrderLineFactory(order=order, quantity=2, unit_price=Decimal(price))
    cancelled = PurchaseOrderFactory(issue_date=today, status=40, currency="EUR")
    PurchaseOrderLineFactory(order=cancelled, quantity=100, unit_price=Decimal(1))
    chart = widgets.order_value_chart(demo_users["reader"])
    purchase = next(d for d in chart.data["datasets"] if d["label"] == "Purchase orders EUR")
    assert len(purchase["data"]) == 12
    assert purchase["data"][-1] == 30.0 and purchase["data"][-2] == 2.0
    assert sum(purchase["data"]) == 32.0
    assert chart.data["labels"][-1] == f"{today:%b %Y}"

    now = timezone.now()
    for when in (now, now, now - timedelta(weeks=1), now - timedelta(weeks=20)):
        BuildOrderFactory(status=BuildStatus.COMPLETE, completed_at=when)
    BuildOrderFactory(status=BuildStatus.PRODUCTION)
    weeks = list(figures.builds_completed_by_week().values())
    assert len(weeks) == 12 and weeks[-1] == 2 and weeks[-2] == 1 and sum(weeks) == 3
    chart = widgets.builds_chart(demo_users["reader"])
    assert json.loads(chart.json)["datasets"][0]["data"] == weeks


def test_my_work_lists_only_what_i_am_responsible_for(client, demo_users):
    allaccess = demo_users["allaccess"]
    make_dataset(2, owner=allaccess)
    make_dataset(2, owner=demo_users["reader"])
    sections = {s.key: s for s in widgets.my_work(allaccess)}
    assert len(sections["my_purchase_orders"].rows) == 2
    assert len(sections["my_builds"].rows) == 2
    assert len(sections["my_jobs"].rows) == 2
    group = allaccess.groups.first()
    PurchaseOrderFactory(status=20, responsible_group=group)  # through my group
    sections = {s.key: s for s in widgets.my_work(allaccess)}
    assert len(sections["my_purchase_orders"].rows) == 3


def test_recent_changes_show_only_models_the_user_may_view(client, demo_users):
    make_dataset(1, owner=demo_users["admin"])  # parts, stock, orders: change log entries
    _, html = page(login(client, demo_users["engineer"]))
    changes = html.split("data-recent-changes", 1)[1]
    assert changes.count("data-change") == 10
    assert "purchase order" not in changes.lower()
    _, html = page(login(client, demo_users["admin"]))
    assert html.split("data-recent-changes", 1)[1].count("data-change") == 10


def _queries(client, user):
    login(client, user)
    client.get("/admin/")  # warm: content types, the snapshot
    with CaptureQueriesContext(connection) as captured:
        page(client)
    return len(captured.captured_queries)


def test_the_page_takes_the_same_queries_with_10_or_100_objects(
    client, demo_users, django_assert_max_num_queries
):
    make_dataset(10, owner=demo_users["allaccess"])
    small = {name: _queries(client, user) for name, user in demo_users.items()}
    make_dataset(90, owner=demo_users["allaccess"])
    refresh_snapshot()
    assert {name: _queries(client, user) for name, user in demo_users.items()} == small
    for user in demo_users.values():
        login(client, user)
        with django_assert_max_num_queries(22):
            page(client)


def test_a_missing_snapshot_is_computed_on_the_first_view_and_shown_with_its_time(
    client, demo_users
):
    make_dataset(1, owner=demo_users["reader"])
    assert not DashboardSnapshot.objects.exists()
    _, html = page(login(client, demo_users["reader"]))
    snapshot = DashboardSnapshot.objects.get()
    assert f"as of {timezone.localtime(snapshot.computed_at):%H:%M}" in html
    DashboardSnapshot.objects.update(computed_at=timezone.now() - timedelta(hours=2))
    _, html = page(client)
    assert "not refreshed lately" in html


def test_the_refresh_is_a_periodic_task(demo_users):
    from django_celery_beat.models import PeriodicTask

    from admin_customisations.dashboard.tasks import refresh_dashboard

    assert any(s.task == "stockroom.refresh_dashboard" for s in SCHEDULES)
    assert PeriodicTask.objects.filter(task="stockroom.refresh_dashboard").exists()
    result = refresh_dashboard.apply().get()
    assert DashboardSnapshot.objects.get().seconds == result["seconds"]


# --------------------------------------------------------------------------- celery internals

INTERNALS = ("/admin/django_celery_results/", "/admin/django_celery_beat/")


@pytest.mark.parametrize("username", ["allaccess", "reader", "engineer"])
def test_celery_internals_are_hidden_without_the_admin_role(client, demo_users, username):
    login(client, demo_users[username])
    _, html = page(client)
    assert not any(prefix in html for prefix in INTERNALS)
    # the "all applications" list on another page, too
    html = client.get("/admin/inventory/part/").content.decode()
    assert not any(prefix in html for prefix in INTERNALS)
    assert "/admin/admin_customisations/backgroundjob/" in html


def test_the_admin_role_sees_celery_internals(client, demo_users):
    from django.contrib.auth.models import Group

    from admin_customisations.roles import set_group_roles

    _, html = page(login(client, demo_users["admin"]))
    assert all(prefix in html for prefix in INTERNALS)
    admins = Group.objects.create(name="operators")
    set_group_roles(admins, {"admin": ("view", "change")})
    operator = demo_users["reader"]
    operator.groups.add(admins)
    _, html = page(login(client, operator))
    assert "/admin/django_celery_beat/periodictask/" in html


def test_the_sidebar_starts_with_the_dashboard(client, demo_users):
    _, html = page(login(client, demo_users["engineer"]))
    assert "Dashboard" in html
    assert html.index("Dashboard") < html.index("/admin/inventory/part/")


def test_my_work_shows_my_unread_notifications_only(client, demo_users):
    from django.contrib.contenttypes.models import ContentType

    from admin_customisations.notifications.models import Notification
    from inventory.models import Part

    allaccess, reader = demo_users["allaccess"], demo_users["reader"]
    kind = ContentType.objects.get_for_model(Part)
    for n, (user, read) in enumerate(
        [(allaccess, False)] * 7 + [(allaccess, True), (reader, False)]
    ):
        part = PartFactory()
        Notification.objects.create(
            recipient=user,
            condition=Notification.Condition.LOW_STOCK,
            content_type=kind,
            object_id=part.pk,
            title=f"Low stock: note {n}",
            link=f"/admin/inventory/part/{part.pk}/change/",
            read_at=timezone.now() if read else None,
        )
    _, html = page(login(client, allaccess))
    mine = html.split('data-section="my_notifications"', 1)[1].split("data-section=", 1)[0]
    assert "Unread notifications (7)" in mine
    assert mine.count("Low stock: note") == 5  # the newest five
    assert "note 6" in mine and "note 1" not in mine
    assert "note 7" not in mine and "note 8" not in mine  # read, someone else's
