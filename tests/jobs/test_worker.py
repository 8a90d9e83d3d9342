"""Bulk jobs on a real Celery worker (not eager mode), on the file broker and on Redis."""

import pytest
from celery.contrib.testing.worker import start_worker
from guardian.shortcuts import assign_perm

from admin_customisations.jobs.tasks import run_bulk_job
from admin_customisations.models import BackgroundJob, JobItem
from config.celery import app
from inventory.choices import StockStatus
from inventory.models import StockItem
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("broker", ["filesystem", "redis"], indirect=True)
def test_bulk_status_change_over_a_filter_on_a_real_worker(broker, clerk, settings):
    settings.STOCK_OWNERSHIP_CONTROL = True
    settings.BULK_JOB_CHUNK_SIZE = 250
    site = factories.StockLocationFactory(name="Site")
    mine = factories.StockLocationFactory(name="Mine", parent=site)
    theirs = factories.StockLocationFactory(name="Theirs", parent=site)
    assign_perm("inventory.change_stocklocation", clerk, mine)
    assign_perm("inventory.change_stocklocation", factories.UserFactory(), theirs)
    part = factories.PartFactory()
    customer = factories.CompanyFactory(is_customer=True)
    rows = [StockItem(part=part, location=mine, quantity=3) for _ in range(2400)]
    rows += [StockItem(part=part, location=theirs, quantity=3) for _ in range(300)]
    rows += [
        StockItem(part=part, location=mine, quantity=3, status=StockStatus.DAMAGED)
        for _ in range(200)
    ]
    StockItem.objects.bulk_create(rows)
    sent = list(StockItem.objects.filter(location=mine, status=StockStatus.OK)[:100])
    StockItem.objects.filter(pk__in=[i.pk for i in sent]).update(customer=customer)

    job = BackgroundJob.objects.create(
        name="Change status",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:change_status",
        params={"status": [str(int(StockStatus.DAMAGED))], "notes": ["audit"]},
        selection={"query": f"location={site.pk}"},
        created_by=clerk,
    )
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        run_bulk_job.delay(job.pk).get(timeout=900)  # generous: CI runs it beside another worker
    job.refresh_from_db()
    # Items with a customer are not in the stock list by default, so not in the selection.
    assert job.total == 2800
    assert job.status == BackgroundJob.Status.PARTIAL
    assert (job.succeeded, job.skipped, job.failed) == (2300, 200, 300)
    not_permitted = job.items.filter(outcome="failed", message__startswith="Not permitted").count()
    assert not_permitted == 300
    assert not job.items.filter(object_id__in=[i.pk for i in sent]).exists()
    changed = StockItem.objects.filter(
        pk__in=job.items.filter(outcome="succeeded").values("object_id")
    )
    assert changed.exclude(status=StockStatus.DAMAGED).count() == 0
    sample = changed.first().history.order_by("-history_id").first()
    assert sample.history_user == clerk
    assert sample.history_change_reason.endswith(f"(job #{job.pk})")
    assert JobItem.objects.filter(job=job).count() == 2800
