"""Each scheduled check raises the right notifications once, not again the next run, and
again after the condition cleared and came back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from admin_customisations.models import BackgroundJob, Notification
from admin_customisations.notifications import checks
from builds.choices import BuildStatus
from inventory.models import Part, PartSubscription
from orders.choices import PurchaseOrderStatus, SalesOrderStatus
from tests.factories import (
    BackgroundJobFactory,
    BuildOrderFactory,
    PartCategoryFactory,
    PartFactory,
    PurchaseOrderFactory,
    ReturnOrderFactory,
    SalesOrderFactory,
    StockItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
C = Notification.Condition


def notified(condition):
    return sorted(
        Notification.objects.filter(condition=condition).values_list(
            "recipient__username", "object_id"
        )
    )


def set_stock(part, quantity):
    """The part's maintained in-stock figure (what the low stock check reads)."""
    Part.objects.filter(pk=part.pk).update(in_stock_total=Decimal(quantity))


@pytest.fixture
def subscriber():
    return UserFactory(username="watcher")


def test_low_stock_notifies_subscribers_once(subscriber):
    part = PartFactory(minimum_stock=10)
    fine = PartFactory(minimum_stock=10, category=part.category)
    StockItemFactory(part=part, quantity=4)
    StockItemFactory(part=fine, quantity=40)
    part.refresh_from_db()
    assert part.in_stock_total == 4  # the maintained figure follows the stock
    PartSubscription.objects.create(user=subscriber, category=part.category)
    UserFactory(username="bystander")

    assert checks.check_low_stock() == 1
    assert notified(C.LOW_STOCK) == [("watcher", part.pk)]
    note = Notification.objects.get()
    assert note.title == f"Low stock: {part.ipn} {part.name}"
    assert note.message == "4 in stock, minimum 10."
    assert note.link == f"/admin/inventory/part/{part.pk}/change/"

    assert checks.check_low_stock() == 0  # the next night: nothing new
    assert Notification.objects.count() == 1


def test_low_stock_recurrence_notifies_again_after_it_cleared(subscriber):
    part = PartFactory(minimum_stock=10)
    PartSubscription.objects.create(user=subscriber, part=part)
    set_stock(part, 2)
    assert checks.check_low_stock() == 1
    set_stock(part, 50)  # restocked: the condition clears, the notification closes
    assert checks.check_low_stock() == 0
    assert Notification.objects.get().is_open is False
    set_stock(part, 1)  # low again: a new notification
    assert checks.check_low_stock() == 1
    assert Notification.objects.filter(is_open=True).count() == 1
    assert Notification.objects.count() == 2


def test_low_stock_ignores_inactive_parts_and_non_staff_or_inactive_users():
    part = PartFactory(minimum_stock=10)
    inactive_part = PartFactory(minimum_stock=10, active=False, category=part.category)
    set_stock(part, 0)
    set_stock(inactive_part, 0)
    for user in (
        UserFactory(username="gone", is_active=False),
        UserFactory(username="customer", is_staff=False),
        UserFactory(username="staff"),
    ):
        PartSubscription.objects.create(user=user, category=part.category)
    assert checks.check_low_stock() == 1
    assert notified(C.LOW_STOCK) == [("staff", part.pk)]


def test_a_new_subscriber_is_notified_of_a_condition_that_persists(subscriber):
    part = PartFactory(minimum_stock=10)
    set_stock(part, 0)
    PartSubscription.objects.create(user=subscriber, part=part)
    assert checks.check_low_stock() == 1
    late = UserFactory(username="late")
    PartSubscription.objects.create(user=late, part=part)
    assert checks.check_low_stock() == 1
    assert notified(C.LOW_STOCK) == [("late", part.pk), ("watcher", part.pk)]


def test_stock_expiring_and_expired(settings, subscriber):
    settings.STOCK_EXPIRY_WARNING_DAYS = 30
    today = timezone.localdate()
    category = PartCategoryFactory()
    soon, expired, later, gone = (PartFactory(category=category) for _ in range(4))
    StockItemFactory(part=soon, expiry_date=today + timedelta(days=30))
    StockItemFactory(part=soon, expiry_date=today + timedelta(days=3), quantity=5)
    StockItemFactory(part=expired, expiry_date=today - timedelta(days=1))
    StockItemFactory(part=later, expiry_date=today + timedelta(days=31))
    StockItemFactory(part=gone, expiry_date=today - timedelta(days=9), quantity=0)  # empty
    PartSubscription.objects.create(user=subscriber, category=category)

    assert checks.check_stock_expiring() == 1
    assert checks.check_stock_expired() == 1
    assert notified(C.STOCK_EXPIRING) == [("watcher", soon.pk)]
    assert notified(C.STOCK_EXPIRED) == [("watcher", expired.pk)]
    message = Notification.objects.get(condition=C.STOCK_EXPIRING).message
    assert message == (
        f"2 stock items (15 in total), the first on {today + timedelta(days=3):%Y-%m-%d}."
    )
    assert checks.check_stock_expiring() == 0
    assert checks.check_stock_expired() == 0
    # ten days on, the 3-day item has expired and the 31-day one is within the window
    later_day = today + timedelta(days=10)
    assert checks.check_stock_expired(later_day) == 1  # soon has expired stock now
    assert checks.check_stock_expiring(later_day) == 1  # later is within 30 days now
    assert ("watcher", later.pk) in notified(C.STOCK_EXPIRING)


@pytest.mark.parametrize(
    ("factory", "status", "check", "condition", "label"),
    [
        (
            PurchaseOrderFactory,
            PurchaseOrderStatus.PLACED,
            checks.check_overdue_purchase_orders,
            C.PURCHASE_ORDER_OVERDUE,
            "Purchase order",
        ),
        (
            SalesOrderFactory,
            SalesOrderStatus.IN_PROGRESS,
            checks.check_overdue_sales_orders,
            C.SALES_ORDER_OVERDUE,
            "Sales order",
        ),
        (
            ReturnOrderFactory,
            20,
            checks.check_overdue_return_orders,
            C.RETURN_ORDER_OVERDUE,
            "Return order",
        ),
        (
            BuildOrderFactory,
            BuildStatus.PRODUCTION,
            checks.check_overdue_build_orders,
            C.BUILD_ORDER_OVERDUE,
            "Build order",
        ),
    ],
)
def test_overdue_orders_notify_the_responsible_party_once(factory, status, check, condition, label):
    today = timezone.localdate()
    owner = UserFactory(username="owner")
    team = Group.objects.create(name="team")
    members = [UserFactory(username=f"member{i}") for i in range(2)]
    for member in members:
        member.groups.add(team)
    UserFactory(username="outsider")
    past = today - timedelta(days=3)
    mine = factory(status=status, target_date=past, responsible_user=owner)
    ours = factory(status=status, target_date=past, responsible_group=team)
    factory(status=status, target_date=past)  # nobody responsible: nobody to tell
    factory(status=status, target_date=today + timedelta(days=1), responsible_user=owner)

    assert check(today) == 3
    assert notified(condition) == [
        ("member0", ours.pk),
        ("member1", ours.pk),
        ("owner", mine.pk),
    ]
    note = Notification.objects.get(recipient=owner)
    assert note.title == f"{label} {mine.reference} is overdue"
    assert note.message.startswith(f"Target date {past:%Y-%m-%d} (3 days ago)")
    assert check(today) == 0
    # closed: the notification closes
    type(mine).objects.filter(pk=mine.pk).update(status=40)  # cancelled order, complete build
    check(today)
    assert not Notification.objects.get(recipient=owner).is_open


def test_failed_jobs_notify_the_admin_role_and_the_jobs_user():
    from admin_customisations.roles import set_group_roles

    admins = Group.objects.create(name="admins")
    set_group_roles(admins, {"admin": ("view", "change")})
    job_admin = UserFactory(username="jobadmin")
    job_admin.groups.add(admins)
    # viewing the admin role's pages (every demo group does, to follow jobs) is not holding it
    followers = Group.objects.create(name="followers")
    set_group_roles(followers, {"admin": ("view",)})
    UserFactory(username="follower").groups.add(followers)
    root = UserFactory(username="root", is_superuser=True)
    starter = UserFactory(username="starter")
    UserFactory(username="other")
    now = timezone.now()
    failed = BackgroundJobFactory(
        created_by=starter, status=BackgroundJob.Status.FAILED, finished_at=now, message="boom"
    )
    BackgroundJobFactory(
        status=BackgroundJob.Status.FAILED, finished_at=now - timedelta(days=30)
    )  # old news
    BackgroundJobFactory(status=BackgroundJob.Status.SUCCEEDED, finished_at=now)

    assert checks.check_failed_jobs() == 3
    assert notified(C.JOB_FAILED) == [
        ("jobadmin", failed.pk),
        (root.username, failed.pk),
        ("starter", failed.pk),
    ]
    assert checks.check_failed_jobs() == 0


def test_the_one_open_notification_rule_is_a_database_constraint(subscriber):
    from django.db import IntegrityError, transaction

    part = PartFactory()
    fields = dict(
        recipient=subscriber,
        condition=C.LOW_STOCK,
        content_type_id=Notification.objects.model._meta.get_field("content_type")
        .related_model.objects.get_for_model(Part)
        .pk,
        object_id=part.pk,
        title="x",
    )
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**fields)
    Notification.objects.create(**fields, is_open=False)  # closed ones may repeat


def test_checks_run_in_a_bounded_number_of_queries(django_assert_max_num_queries, subscriber):
    category = PartCategoryFactory()
    PartSubscription.objects.create(user=subscriber, category=category)
    parts = [PartFactory(category=category, minimum_stock=5) for _ in range(30)]
    Part.objects.filter(pk__in=[p.pk for p in parts]).update(in_stock_total=0)
    with django_assert_max_num_queries(12):
        assert checks.check_low_stock() == 30
    with django_assert_max_num_queries(12):
        assert checks.check_low_stock() == 0
