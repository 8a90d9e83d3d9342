"""The maintained figures (``Part.in_stock_total``, ``StockLocation.items_stored``) after bulk
jobs, through the bulk services' deltas (batch) and the per-object services (each): always
equal to a recompute from scratch."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob
from inventory.choices import StockStatus
from inventory.models import Part, StockItem, StockLocation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_chunks(settings):
    settings.BULK_JOB_CHUNK_SIZE = 3  # parts and locations mixed within and across chunks


@pytest.fixture(autouse=True, params=["batch", "each"])
def path(request, monkeypatch):
    if request.param == "each":
        monkeypatch.setattr(runner, "_process_batch", lambda *args, **kwargs: None)
    return request.param


def assert_figures_equal_a_recompute():
    totals = dict(
        StockItem.objects.in_stock()
        .order_by()
        .values("part")
        .annotate(t=Sum("quantity"))
        .values_list("part", "t")
    )
    for pk, total in Part.objects.values_list("pk", "in_stock_total"):
        assert total == totals.get(pk, Decimal(0)), Part.objects.get(pk=pk)
    counts = dict(
        StockItem.objects.order_by()
        .values("location")
        .annotate(n=Count("pk"))
        .values_list("location", "n")
    )
    for pk, stored in StockLocation.objects.values_list("pk", "items_stored"):
        assert stored == counts.get(pk, 0), StockLocation.objects.get(pk=pk)


@pytest.fixture
def stock(db):
    """17 items of three parts in three locations; some already damaged, lost, empty or with a
    customer (refused by both jobs)."""
    parts = [factories.PartFactory(name=n) for n in ("Bolt", "Nut", "Washer")]
    here = factories.StockLocationFactory(name="Here")
    elsewhere = factories.StockLocationFactory(name="Elsewhere")
    customer = factories.CompanyFactory(is_customer=True)
    statuses = [StockStatus.OK, StockStatus.DAMAGED, StockStatus.LOST, StockStatus.ATTENTION]
    for i in range(17):
        factories.StockItemFactory(
            part=parts[i % 3],
            location=here if i % 4 else elsewhere,
            quantity=Decimal(0) if i == 5 else Decimal(i) + Decimal("0.5"),
            status=statuses[i % 4],
            customer=customer if i in (7, 12) else None,
        )
    assert_figures_equal_a_recompute()
    return {"here": here, "elsewhere": elsewhere}


def run(user, action, params, selection):
    job = BackgroundJob.objects.create(
        name=action,
        task_name="stockroom.run_bulk_job",
        action=f"inventory.stockitem:{action}",
        params=params,
        selection=selection,
        created_by=user,
    )
    runner.run_job(job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    "status", [StockStatus.DESTROYED, StockStatus.OK, StockStatus.DAMAGED, StockStatus.LOST]
)
def test_status_jobs_keep_the_figures_right(clerk, stock, status):
    skipped = StockItem.objects.filter(status=status).count()
    refused = StockItem.objects.exclude(status=status).filter(customer__isnull=False).count()
    job = run(
        clerk,
        "change_status",
        {"status": [str(int(status))], "notes": [""]},
        {"ids": list(StockItem.objects.values_list("pk", flat=True))},
    )
    assert (job.done, job.skipped, job.failed) == (17, skipped, refused)
    assert job.succeeded == 17 - skipped - refused > 0
    assert_figures_equal_a_recompute()


def test_status_job_out_of_stock_and_back(clerk, stock):
    selection = {"query": f"location={stock['here'].pk}"}
    run(clerk, "change_status", {"status": ["75"], "notes": [""]}, selection)  # quarantined
    assert_figures_equal_a_recompute()
    run(clerk, "change_status", {"status": ["10"], "notes": [""]}, selection)
    assert_figures_equal_a_recompute()


def test_move_jobs_keep_both_locations_counters_right(clerk, stock):
    dock = factories.StockLocationFactory(name="Dock")
    everything = {"ids": list(StockItem.objects.values_list("pk", flat=True))}
    move = {"location": [str(stock["here"].pk)], "quantity": [""], "notes": [""]}
    job = run(clerk, "move_stock", move, everything)
    assert job.skipped == 12 and job.succeeded and job.failed  # lost, empty, with a customer
    assert_figures_equal_a_recompute()
    job = run(clerk, "move_stock", {**move, "location": [str(dock.pk)]}, everything)
    assert StockLocation.objects.get(pk=dock.pk).items_stored == job.succeeded > 0
    assert_figures_equal_a_recompute()
