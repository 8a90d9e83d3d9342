"""Bulk actions from the admin: the threshold, "select all", and the job pages."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User

from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob, JobItem
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/inventory/stockitem/"


def post_status(client, items, query="", select_across=False):
    data = {
        "action": "change_status",
        ACTION_CHECKBOX_NAME: [str(i.pk) for i in items],
        "index": "0",
        "select_across": "1" if select_across else "0",
        "apply": "1",
        "status": str(int(StockStatus.ATTENTION)),
        "notes": "audit",
    }
    return client.post(CHANGELIST + query, data)


def outcome(items):
    """What a status change left behind, per item, without ids or dates."""
    rows = []
    for item in StockItem.objects.filter(pk__in=[i.pk for i in items]).order_by("pk"):
        record = item.history.order_by("-history_id").first()
        reason = record.history_change_reason.split(" (job #")[0]
        tracking = list(
            StockItemTracking.objects.filter(item=item).values_list("tracking_type", "notes")
        )
        rows.append((item.status, record.history_user.username, reason, tracking))
    return rows


@pytest.fixture
def job_page(client):
    def get(job, user):
        client.force_login(user)
        return client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/change/")

    return get


def test_threshold_boundary_inline_and_job_give_identical_results(
    client, clerk, make_items, settings
):
    settings.BULK_JOB_THRESHOLD = 5
    client.force_login(clerk)
    inline_items = list(make_items(5))
    response = post_status(client, inline_items)
    assert response.status_code == 302
    assert not BackgroundJob.objects.exists()

    job_items = list(make_items(6))
    response = post_status(client, job_items)
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/backgroundjob/{job.pk}/change/")
    assert job.selection["ids"] == [i.pk for i in job_items] and job.total == 6
    assert job.params["status"] == [str(int(StockStatus.ATTENTION))]
    runner.run_job(job.pk)

    assert outcome(inline_items)[0] == outcome(job_items)[0]
    assert {row[0] for row in outcome(inline_items + job_items)} == {StockStatus.ATTENTION}
    last = job_items[0].history.order_by("-history_id").first()
    assert last.history_change_reason.endswith(f"(job #{job.pk})")


def test_inline_selection_skips_objects_already_in_that_state(client, clerk, make_items):
    client.force_login(clerk)
    items = list(make_items(4))
    StockItem.objects.filter(pk=items[0].pk).update(status=StockStatus.ATTENTION)
    response = post_status(client, items)
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("3 stock items" in m and "1 already up to date, skipped" in m for m in messages)


def test_select_all_stores_the_changelist_query_not_ids(client, clerk, make_items):
    client.force_login(clerk)
    items = list(make_items(3))
    location = items[0].location
    response = post_status(client, items[:1], query=f"?location={location.pk}", select_across=True)
    assert response.status_code == 302
    job = BackgroundJob.objects.get()
    assert job.selection["query"] == f"location={location.pk}"
    assert "ids" not in job.selection
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert (job.total, job.succeeded) == (3, 3)


def test_the_intermediate_page_for_select_all_carries_no_ids(client, clerk, make_items):
    client.force_login(clerk)
    items = list(make_items(3))
    data = {
        "action": "change_status",
        ACTION_CHECKBOX_NAME: [str(items[0].pk)],
        "index": "0",
        "select_across": "1",
    }
    page = client.post(CHANGELIST + f"?location={items[0].location.pk}", data).content.decode()
    assert 'name="select_across" value="1"' in page
    assert page.count(f'name="{ACTION_CHECKBOX_NAME}"') == 0  # the query stands for the selection
    assert "runs in the background for 3 objects" in page


def test_job_pages_belong_to_their_requester(client, clerk, make_items, job_page, superuser):
    items = list(make_items(3))
    job = BackgroundJob.objects.create(
        name="Change status",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:change_status",
        params={"status": ["55"], "notes": [""]},
        selection={"ids": [i.pk for i in items]},
        created_by=clerk,
    )
    runner.run_job(job.pk)
    colleague = User.objects.create_user("colleague", is_staff=True)
    colleague.groups.set(clerk.groups.all())  # the admin role with view: sees all jobs
    outsider = User.objects.create_user("outsider", is_staff=True)  # no admin role

    assert job_page(job, clerk).status_code == 200
    assert job_page(job, superuser).status_code == 200
    assert job_page(job, colleague).status_code == 200
    assert job_page(job, outsider).status_code == 403
    client.force_login(outsider)
    assert (
        client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/progress/").status_code
        == 403
    )
    assert (
        f"/backgroundjob/{job.pk}/change/"
        not in client.get(
            "/admin/admin_customisations/backgroundjob/?started_by=all"
        ).content.decode()
    )

    client.force_login(colleague)
    before = BackgroundJob.objects.count()
    assert (
        client.post(f"/admin/admin_customisations/backgroundjob/{job.pk}/retry/").status_code == 403
    )
    assert (
        client.post(f"/admin/admin_customisations/backgroundjob/{job.pk}/change/").status_code
        == 403
    )
    assert BackgroundJob.objects.count() == before
    mine = client.get("/admin/admin_customisations/backgroundjob/").content.decode()
    assert f"/backgroundjob/{job.pk}/change/" not in mine  # the list shows my jobs by default
    everyone = client.get(
        "/admin/admin_customisations/backgroundjob/?started_by=all"
    ).content.decode()
    assert f"/backgroundjob/{job.pk}/change/" in everyone

    client.force_login(clerk)
    progress = client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/progress/").json()
    assert progress | {"elapsed_seconds": None} == progress | {
        "status": "succeeded",
        "total": 3,
        "processed": 3,
        "succeeded": 3,
        "failed": 0,
        "percent": 100,
        "finished": True,
        "elapsed_seconds": None,
    }
    assert (
        client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/download/").status_code
        == 404
    )


def test_failures_are_listed_exported_and_retried(client, clerk, make_items, job_page):
    items = list(make_items(3))
    job = BackgroundJob.objects.create(
        name="Change status",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:change_status",
        params={"status": ["55"], "notes": [""]},
        selection={"ids": [i.pk for i in items]},
        created_by=clerk,
        status=BackgroundJob.Status.PARTIAL,
        total=3,
        done=3,
        succeeded=2,
        failed=1,
    )
    JobItem.objects.create(
        job=job,
        object_id=items[1].pk,
        object_repr="=cmd|' /C calc'!A0",
        outcome="failed",
        message="-Refused",
    )
    page = job_page(job, clerk).content.decode()
    assert "Refused" in page and f"/admin/inventory/stockitem/{items[1].pk}/change/" in page
    assert "Retry failed" in page

    csv = client.get(
        f"/admin/admin_customisations/backgroundjob/{job.pk}/failed.csv"
    ).content.decode()
    assert f"{items[1].pk},'=cmd|' /C calc'!A0,'-Refused" in csv

    response = client.post(f"/admin/admin_customisations/backgroundjob/{job.pk}/retry/")
    retry = BackgroundJob.objects.get(retry_of=job)
    assert response.status_code == 302 and response.url.endswith(f"/{retry.pk}/change/")
    runner.run_job(retry.pk)
    retry.refresh_from_db()
    assert (retry.total, retry.succeeded) == (1, 1)
    assert StockItem.objects.get(pk=items[1].pk).status == StockStatus.DAMAGED


def test_cancel_from_the_job_page(client, clerk, make_items):
    items = list(make_items(2))
    job = BackgroundJob.objects.create(
        name="Change status",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:change_status",
        params={"status": ["55"], "notes": [""]},
        selection={"ids": [i.pk for i in items]},
        created_by=clerk,
    )
    client.force_login(clerk)
    response = client.post(f"/admin/admin_customisations/backgroundjob/{job.pk}/cancel/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.CANCELLED
    assert (
        client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/cancel/").status_code == 405
    )
