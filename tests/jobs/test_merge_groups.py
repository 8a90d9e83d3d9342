"""Merge by part + location + status: one merged item per group of the selection."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob
from inventory.choices import StockStatus
from inventory.models import StockItem
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups(make_items):
    part, other_part = factories.PartFactory(), factories.PartFactory()
    here, there = factories.StockLocationFactory(), factories.StockLocationFactory()
    a = list(make_items(3, part=part, location=here))
    b = list(make_items(2, part=part, location=there))
    c = list(make_items(1, part=other_part, location=here))
    # make_items returns every item of that part and place: the new one is the last
    damaged = list(make_items(1, part=part, location=here, status=StockStatus.DAMAGED))[-1:]
    return a, b, c, damaged


def quantities():
    return sorted(
        StockItem.objects.values_list("part_id", "location_id", "status", "quantity").order_by()
    )


def test_merge_groups_as_a_job(clerk, groups, settings):
    settings.BULK_JOB_CHUNK_SIZE = 2  # groups span chunks
    a, b, c, damaged = groups
    selection = [i.pk for i in (*a, *b, *c, *damaged)]
    job = BackgroundJob.objects.create(
        name="Merge",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:merge_stock_groups",
        params={"notes": ["tidy up"]},
        selection={"ids": selection},
        created_by=clerk,
    )
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    assert job.succeeded == 2  # groups a and b; c and damaged are alone in their group
    assert StockItem.objects.get(pk=a[0].pk).quantity == 15
    assert StockItem.objects.get(pk=b[0].pk).quantity == 10
    assert StockItem.objects.filter(pk__in=[a[1].pk, a[2].pk, b[1].pk]).count() == 0
    assert StockItem.objects.get(pk=c[0].pk).quantity == 5
    assert StockItem.objects.get(pk=damaged[0].pk).quantity == 5
    history = StockItem.objects.get(pk=a[0].pk).history.first()
    assert history.history_change_reason.endswith(f"(job #{job.pk})")


def test_merge_groups_inline_gives_the_same_result(client, clerk, groups):
    a, b, c, damaged = groups
    client.force_login(clerk)
    data = {
        "action": "merge_stock_groups",
        ACTION_CHECKBOX_NAME: [str(i.pk) for i in (*a, *b, *c, *damaged)],
        "index": "0",
        "apply": "1",
        "notes": "tidy up",
    }
    response = client.post("/admin/inventory/stockitem/", data)
    assert response.status_code == 302
    assert StockItem.objects.get(pk=a[0].pk).quantity == 15
    assert StockItem.objects.get(pk=b[0].pk).quantity == 10
    assert StockItem.objects.count() == 4
