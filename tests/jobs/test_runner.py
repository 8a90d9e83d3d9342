"""The bulk-job runner, run in-process: outcomes, exactly once, permissions, cancel, retry, reaper."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob, JobItem
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from tests import factories

pytestmark = pytest.mark.django_db
Status = BackgroundJob.Status


def status_job(user, selection, status=StockStatus.DAMAGED, notes="bulk"):
    return BackgroundJob.objects.create(
        name="Change status",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:change_status",
        params={"status": [str(int(status))], "notes": [notes]},
        selection=selection,
        created_by=user,
    )


@pytest.fixture(autouse=True)
def small_chunks(settings):
    settings.BULK_JOB_CHUNK_SIZE = 7


@pytest.fixture(autouse=True, params=["batch", "each"])
def path(request, monkeypatch):
    """Run every test through the bulk service (batch) and through the per-object step (each)."""
    if request.param == "each":
        monkeypatch.setattr(runner, "_process_batch", lambda *args, **kwargs: None)
    return request.param


def send_to_customer(item):
    customer = factories.CompanyFactory(is_customer=True)
    StockItem.objects.filter(pk=item.pk).update(customer=customer)


def test_filter_selection_with_refused_and_skipped_objects(clerk, make_items, settings):
    items = make_items(30)
    location = items[0].location
    already = list(items[:3])
    StockItem.objects.filter(pk__in=[i.pk for i in already]).update(status=StockStatus.DAMAGED)
    consumed = items[3]
    StockItem.objects.filter(pk=consumed.pk).update(quantity=0)  # nothing left to change
    job = status_job(clerk, {"query": f"location={location.pk}"})

    runner.run_job(job.pk)

    job.refresh_from_db()
    assert job.total == 30
    assert (job.done, job.skipped) == (30, 3)
    assert job.succeeded + job.failed == 27
    assert job.status in (Status.SUCCEEDED, Status.PARTIAL)
    assert JobItem.objects.filter(job=job).count() == 30
    skipped = JobItem.objects.get(job=job, object_id=already[0].pk)
    assert skipped.outcome == "skipped" and "already Damaged" in skipped.message
    changed = StockItem.objects.filter(location=location, status=StockStatus.DAMAGED).count()
    assert changed == 3 + job.succeeded
    record = items[10].history.order_by("-history_id").first()
    assert record.history_user == clerk
    assert record.history_change_reason.endswith(f"(job #{job.pk})")


def test_a_refused_object_is_recorded_and_the_job_goes_on(clerk, make_items):
    items = list(make_items(10))
    refused = items[4]
    send_to_customer(refused)
    job = status_job(clerk, {"ids": [i.pk for i in items]})
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert (job.succeeded, job.failed, job.status) == (9, 1, Status.PARTIAL)
    failure = JobItem.objects.get(job=job, outcome="failed")
    assert failure.object_id == refused.pk
    assert "customer" in failure.message and "return it" in failure.message.lower()
    assert StockItem.objects.get(pk=refused.pk).status == StockStatus.OK


def test_running_twice_changes_each_object_once(clerk, make_items):
    items = make_items(20)
    job = status_job(clerk, {"ids": [i.pk for i in items]})
    runner.run_job(job.pk)
    runner.run_job(job.pk)  # a redelivered message
    job.refresh_from_db()
    assert job.succeeded == 20
    edits = StockItemTracking.objects.filter(item__in=items).count()
    assert edits == 20  # one status-change entry per item


def test_a_worker_dying_mid_chunk_leaves_nothing_half_done(clerk, make_items):
    items = list(make_items(20))
    job = status_job(clerk, {"ids": [i.pk for i in items]})
    calls = {"n": 0}
    real_create = JobItem.objects.bulk_create

    def dies_in_the_second_chunk(rows, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the chunk's objects were changed, its JobItems not yet written
            raise KeyboardInterrupt  # stands in for SIGKILL: the transaction never commits
        return real_create(rows, *args, **kwargs)

    with (
        mock.patch.object(JobItem.objects, "bulk_create", dies_in_the_second_chunk),
        pytest.raises(KeyboardInterrupt),
    ):
        runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert job.succeeded == 7  # the first chunk committed, the second rolled back
    damaged = StockItem.objects.filter(pk__in=[i.pk for i in items], status=StockStatus.DAMAGED)
    assert damaged.count() == 7

    runner.run_job(job.pk)  # the reaper's (or broker's) second delivery
    job.refresh_from_db()
    assert (job.status, job.succeeded, job.attempts) == (Status.SUCCEEDED, 20, 2)
    for item in items:
        assert item.history.count() == 1  # bulk_create wrote none; the job exactly one
        assert StockItemTracking.objects.filter(item=item).count() == 1


def test_objects_outside_the_users_ownership_fail_as_not_permitted(clerk, make_items, settings):
    settings.STOCK_OWNERSHIP_CONTROL = True
    site = factories.StockLocationFactory(name="Site")
    mine = factories.StockLocationFactory(name="Mine", parent=site)
    theirs = factories.StockLocationFactory(name="Theirs", parent=site)
    assign_perm("inventory.change_stocklocation", clerk, mine)
    other = factories.UserFactory()
    assign_perm("inventory.change_stocklocation", other, theirs)
    part = factories.PartFactory()
    ok = list(make_items(4, location=mine, part=part))
    blocked = list(make_items(3, location=theirs, part=part))
    job = status_job(clerk, {"query": f"location={site.pk}"})
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert (job.succeeded, job.failed) == (4, 3)
    messages = set(
        JobItem.objects.filter(job=job, outcome="failed").values_list("message", flat=True)
    )
    assert messages == {"Not permitted: you may not change this object."}
    assert not StockItem.objects.filter(
        pk__in=[i.pk for i in blocked], status=StockStatus.DAMAGED
    ).exists()
    assert all(
        i.status == StockStatus.DAMAGED for i in StockItem.objects.filter(pk__in=[i.pk for i in ok])
    )


def test_cancel_stops_between_chunks_and_keeps_what_was_done(clerk, make_items):
    items = make_items(30)
    job = status_job(clerk, {"ids": [i.pk for i in items]})
    real = runner._run_chunk
    chunks = {"n": 0}

    def cancel_after_two(*args, **kwargs):
        chunks["n"] += 1
        if chunks["n"] == 3:
            runner.request_cancel(BackgroundJob.objects.get(pk=job.pk))
        return real(*args, **kwargs)

    with mock.patch.object(runner, "_run_chunk", cancel_after_two):
        runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert job.succeeded == 14
    assert "Cancelled after 14 of 30" in job.message
    assert (
        StockItem.objects.filter(pk__in=[i.pk for i in items], status=StockStatus.DAMAGED).count()
        == 14
    )


def test_cancel_before_start(clerk, make_items):
    job = status_job(clerk, {"ids": [i.pk for i in make_items(3)]})
    runner.request_cancel(job)
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.succeeded == 0


def test_retry_failed_reruns_only_the_failed_objects(clerk, make_items):
    items = list(make_items(10))
    send_to_customer(items[2])
    job = status_job(clerk, {"ids": [i.pk for i in items]})
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.failed == 1
    StockItem.objects.filter(pk=items[2].pk).update(customer=None)  # the cause is fixed
    retry = runner.retry_failed(job, user=clerk)
    assert retry.total == 1
    runner.run_job(retry.pk)
    retry.refresh_from_db()
    assert (retry.status, retry.succeeded, retry.failed) == (Status.SUCCEEDED, 1, 0)
    assert list(retry.items.values_list("object_id", flat=True)) == [items[2].pk]
    changed = StockItem.objects.filter(pk__in=[i.pk for i in items], status=StockStatus.DAMAGED)
    assert changed.count() == 10


def test_retry_is_refused_without_failures(clerk, make_items):
    from django.core.exceptions import ValidationError

    job = status_job(clerk, {"ids": [i.pk for i in make_items(2)]})
    runner.run_job(job.pk)
    with pytest.raises(ValidationError, match="no failed objects"):
        runner.retry_failed(BackgroundJob.objects.get(pk=job.pk), user=clerk)


def test_reaper_requeues_stale_jobs_and_fails_hopeless_ones(clerk, make_items, settings):
    settings.BULK_JOB_STALE_SECONDS = 60
    settings.BULK_JOB_MAX_ATTEMPTS = 3
    old = timezone.now() - timedelta(minutes=5)
    stale = status_job(clerk, {"ids": [i.pk for i in make_items(2)]})
    hopeless = status_job(clerk, {"ids": [i.pk for i in make_items(2)]})
    fresh = status_job(clerk, {"ids": [i.pk for i in make_items(2)]})
    BackgroundJob.objects.filter(pk=stale.pk).update(
        status=Status.RUNNING, heartbeat_at=old, attempts=1
    )
    BackgroundJob.objects.filter(pk=hopeless.pk).update(
        status=Status.RUNNING, heartbeat_at=old, attempts=3
    )
    BackgroundJob.objects.filter(pk=fresh.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    with mock.patch.object(runner, "enqueue") as enqueue:
        outcome = runner.reap()
    assert outcome["requeued"] == [stale.pk]
    assert outcome["failed"] == [hopeless.pk]
    assert [c.args[0].pk for c in enqueue.call_args_list] == [stale.pk]
    assert BackgroundJob.objects.get(pk=hopeless.pk).status == Status.FAILED


def test_a_form_that_no_longer_validates_fails_the_job_clearly(clerk, make_items):
    job = status_job(clerk, {"ids": [i.pk for i in make_items(2)]})
    BackgroundJob.objects.filter(pk=job.pk).update(params={"status": ["999"], "notes": [""]})
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "no longer valid" in job.message and "status" in job.message


def test_objects_created_by_the_job_are_not_part_of_its_selection(clerk, make_items):
    items = make_items(5)
    location = items[0].location
    target = factories.StockLocationFactory()
    job = BackgroundJob.objects.create(
        name="Split",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:split_stock",
        params={"quantity": ["1"], "location": [""], "notes": [""]},
        selection={"query": f"location={location.pk}", "max_pk": items.last().pk},
        created_by=clerk,
    )
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.succeeded == 5
    assert StockItem.objects.filter(location=location).count() == 10  # 5 originals + 5 split off
    assert target.stock_items.count() == 0


def test_bulk_and_per_object_paths_leave_the_same_records(clerk, make_items, monkeypatch, path):
    """The bulk service writes what the one-item service writes (history, tracking)."""
    if path == "each":
        pytest.skip("compares both paths itself")
    fast = list(make_items(3))
    slow = list(make_items(3))
    runner.run_job(status_job(clerk, {"ids": [i.pk for i in fast]}).pk)
    monkeypatch.setattr(runner, "_process_batch", lambda *args, **kwargs: None)
    runner.run_job(status_job(clerk, {"ids": [i.pk for i in slow]}).pk)

    def records(item):
        history = item.history.order_by("-history_id").first()
        tracking = StockItemTracking.objects.get(item=item)
        return (
            StockItem.objects.get(pk=item.pk).status,
            history.history_user_id,
            history.history_change_reason.split(" (job #")[0],
            history.history_type,
            history.status,
            tracking.tracking_type,
            tracking.user_id,
            tracking.notes,
            tracking.deltas,
        )

    assert records(fast[0]) == records(slow[0])


def test_a_move_to_a_structural_location_is_refused_for_every_object(clerk, make_items):
    items = list(make_items(3))
    structural = factories.StockLocationFactory(name="Building", structural=True)
    job = BackgroundJob.objects.create(
        name="Move",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:move_stock",
        params={"location": [str(structural.pk)], "quantity": [""], "notes": [""]},
        selection={"ids": [i.pk for i in items]},
        created_by=clerk,
    )
    runner.run_job(job.pk)
    job.refresh_from_db()
    # the worker re-validates the form, whose location field offers and accepts only
    # locations that may hold stock: the whole job is refused before any object is tried
    assert job.status == Status.FAILED
    assert "structural" in job.message.lower()
    assert not StockItem.objects.filter(location=structural).exists()


def test_part_figures_are_right_after_a_job_that_refreshes_them_per_chunk(clerk, make_items):
    items = list(make_items(10))  # 5 each
    part = items[0].part
    job = BackgroundJob.objects.create(
        name="Add",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:add_stock",
        params={"quantity": ["2"], "notes": [""]},
        selection={"ids": [i.pk for i in items]},
        created_by=clerk,
    )
    runner.run_job(job.pk)
    part.refresh_from_db()
    assert BackgroundJob.objects.get(pk=job.pk).succeeded == 10
    assert part.in_stock_total == 70  # the figure agrees with the items
