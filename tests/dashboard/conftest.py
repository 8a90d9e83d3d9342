"""A small dataset with something in every dashboard figure, and the demo accounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from admin_customisations.models import BackgroundJob
from builds.choices import BuildStatus
from fixtures.accounts import ensure_demo_accounts
from inventory.choices import StockStatus
from orders.choices import PurchaseOrderStatus, SalesOrderStatus
from tests.factories import (
    BackgroundJobFactory,
    BuildOrderFactory,
    PartCategoryFactory,
    PartFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    StockItemFactory,
)

DEMO = ("admin", "allaccess", "reader", "engineer")


@pytest.fixture
def demo_users(db):
    ensure_demo_accounts()
    return {u.username: u for u in User.objects.filter(username__in=DEMO)}


def login(client, user):
    client.force_login(user)
    return client


def make_dataset(n: int, owner) -> dict:
    """``n`` of each kind of row the dashboard counts (parts, stock, orders, builds, jobs),
    in states that land in every figure; ``owner`` is responsible for the orders and builds."""
    today = timezone.localdate()
    top = PartCategoryFactory()
    sub = PartCategoryFactory(parent=top)
    for i in range(n):
        low = PartFactory(category=sub, minimum_stock=Decimal(100))
        StockItemFactory(part=low, quantity=5, purchase_price=Decimal("2.50"))
        StockItemFactory(
            part=low, quantity=1, expiry_date=today + timedelta(days=10), purchase_price=None
        )
        StockItemFactory(part=low, quantity=1, expiry_date=today - timedelta(days=1))
        StockItemFactory(part=low, quantity=3, status=StockStatus.DESTROYED)  # not in stock
        po = PurchaseOrderFactory(
            status=PurchaseOrderStatus.PLACED,
            target_date=today - timedelta(days=1) if i % 2 else today + timedelta(days=5),
            responsible_user=owner,
            issue_date=today,
        )
        PurchaseOrderLineFactory(order=po, quantity=2, unit_price=Decimal("10.00"))
        so = SalesOrderFactory(
            status=SalesOrderStatus.IN_PROGRESS,
            target_date=today - timedelta(days=1) if i % 2 else None,
            responsible_user=owner,
            issue_date=today,
        )
        SalesOrderLineFactory(order=so, quantity=1, unit_price=Decimal("7.00"))
        BuildOrderFactory(
            status=BuildStatus.PRODUCTION,
            target_date=today if i % 2 else None,
            responsible_user=owner,
        )
        BuildOrderFactory(
            status=BuildStatus.COMPLETE,
            completed=10,
            completed_at=timezone.now() - timedelta(days=7 * (i % 3)),
        )
        BackgroundJobFactory(
            created_by=owner,
            status=BackgroundJob.Status.RUNNING if i % 2 else BackgroundJob.Status.FAILED,
        )
    return {"top": top, "sub": sub}
