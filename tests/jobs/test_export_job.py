"""Exports larger than the threshold run as background jobs with a downloadable file."""

import pytest

from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob
from tests import factories

pytestmark = pytest.mark.django_db
EXPORT_URL = "/admin/inventory/part/export/"


def test_a_large_export_becomes_a_job_and_its_file_is_the_requesters(
    client, superuser, settings, tmp_path, django_user_model
):
    settings.MEDIA_ROOT = tmp_path
    settings.BULK_JOB_THRESHOLD = 3
    category = factories.PartCategoryFactory(name="Widgets")
    for n in range(5):
        factories.PartFactory(name=f"Widget {n}", ipn=f"W-{n}", category=category)
    factories.PartFactory(name="Other", ipn="O-1")
    client.force_login(superuser)
    export_page = client.get(EXPORT_URL + f"?category={category.pk}").content.decode()
    assert "format" in export_page

    response = client.post(
        EXPORT_URL + f"?category={category.pk}", {"format": "csv", "columns": ["IPN", "Name"]}
    )
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/backgroundjob/{job.pk}/change/")
    assert job.action == "inventory.part:__export__" and job.total == 5
    assert job.selection == {"query": f"category={category.pk}"}

    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    download = client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/download/")
    assert download.status_code == 200
    content = b"".join(download.streaming_content).decode()
    assert "W-0" in content and "W-4" in content and "O-1" not in content  # the filter held

    other = django_user_model.objects.create_user("other", is_staff=True)
    client.force_login(other)
    assert (
        client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/download/").status_code
        == 403
    )


def test_a_small_export_is_still_a_direct_download(client, superuser, settings):
    settings.BULK_JOB_THRESHOLD = 3
    factories.PartFactory(name="Only", ipn="ONLY-1")
    client.force_login(superuser)
    response = client.post(EXPORT_URL, {"format": "csv", "columns": ["IPN"]})
    assert response.status_code == 200
    assert "ONLY-1" in response.content.decode()
    assert not BackgroundJob.objects.exists()


def test_the_reaper_removes_expired_job_files(settings, tmp_path, superuser):
    from datetime import timedelta
    from unittest import mock

    from django.core.files.base import ContentFile
    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    settings.BULK_JOB_FILE_DAYS = 7
    old, recent = (
        BackgroundJob.objects.create(name=name, created_by=superuser, status="succeeded")
        for name in ("old", "recent")
    )
    for job, age in ((old, 8), (recent, 1)):
        job.result_file.save(f"{job.name}.csv", ContentFile(b"a,b\n"), save=True)
        BackgroundJob.objects.filter(pk=job.pk).update(
            finished_at=timezone.now() - timedelta(days=age)
        )
    old_path = tmp_path / BackgroundJob.objects.get(pk=old.pk).result_file.name
    with mock.patch.object(runner, "enqueue"):
        assert runner.reap()["files_removed"] == 1
    assert not old_path.exists()
    assert BackgroundJob.objects.get(pk=old.pk).result_file == ""
    assert BackgroundJob.objects.get(pk=recent.pk).result_file
