"""The import engine: all or nothing, exact messages, preview vs commit, history, permissions.

Driven through the parts resource (the engine is the same for every resource)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError
from django.utils import timezone

from admin_customisations.importing import engine
from admin_customisations.importing.jobs import (
    ACTION,
    remove_abandoned_files,
    run_import_job,
    start_commit,
    start_validation,
)
from admin_customisations.importing.messages import exception_message, integrity_message
from admin_customisations.models import BackgroundJob, ImportRun
from admin_customisations.roles import set_group_roles
from inventory.models import Part, PartCategory
from tests import factories
from tests.importing.engine_support import csv_text, import_file, make_run, messages, validate

pytestmark = pytest.mark.django_db
Status = ImportRun.Status
HEADERS = ["IPN", "Name", "Category", "Minimum stock", "Trackable", "Virtual"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def resistors(db):
    electronics = PartCategory.objects.create(name="Electronics")
    return PartCategory.objects.create(name="Resistors", parent=electronics)


@pytest.fixture
def engineer(db):
    """May add and change parts (the 'part' role), nothing else."""
    group = Group.objects.create(name="engineers")
    set_group_roles(group, {"part": ("view", "add", "change"), "part_category": ("view",)})
    user = User.objects.create_user("engineer", password="pw-eng-123", is_staff=True)
    user.groups.add(group)
    return user


def part_row(i, **overrides):
    row = {
        "IPN": f"R-{i:05d}",
        "Name": f"Resistor {i}",
        "Category": "Electronics/Resistors",
        "Minimum stock": "5",
        "Trackable": "FALSE",
        "Virtual": "FALSE",
    }
    row.update(overrides)
    return [row[h] for h in HEADERS]


def parts_csv(rows):
    return csv_text(HEADERS, rows)


# ---------------------------------------------------------------- headers


def test_missing_headers_list_the_expected_ones(superuser, resistors):
    run, _ = validate(superuser, "parts", csv_text(["IPN", "Category"], [["R-1", "x"]]))
    assert run.status == Status.INVALID
    [message] = messages(run)
    assert message.startswith("row 1: Missing column: Name. The expected columns are: IPN, Name,")
    assert "Variant of" in message and Part.objects.count() == 0


def test_unknown_headers_list_the_expected_ones(superuser, resistors):
    text = csv_text(["IPN", "Name", "Created by", "category"], [["R-1", "A", "root", ""]])
    run, _ = validate(superuser, "parts", text)
    [message] = messages(run)
    assert message.startswith("row 1: Unknown column: 'Created by'. The expected columns are: IPN")
    assert run.status == Status.INVALID and Part.objects.count() == 0


def test_headers_match_whatever_their_case_and_spaces(superuser, resistors):
    text = csv_text([" ipn ", "NAME", "category"], [["R-1", "A", "electronics/resistors"]])
    run = import_file(superuser, "parts", text)
    assert run.status == Status.COMMITTED
    assert Part.objects.get(ipn="R-1").category == resistors


# ---------------------------------------------------------------- exact messages, nothing imported


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"Category": "Electronics/Resistrs"},
            "row 3, column Category: 'Electronics/Resistrs' does not exist — did you mean "
            "'Electronics/Resistors'?",
        ),
        (
            {"Name": "x" * 120},
            "row 3, column Name: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is too long: "
            "120 characters, at most 100 allowed.",
        ),
        ({"Minimum stock": "12,5abc"}, "row 3, column Minimum stock: '12,5abc' is not a number."),
        (
            {"Trackable": "maybe"},
            "row 3, column Trackable: 'maybe' is not TRUE or FALSE (also accepted: yes/no, 1/0).",
        ),
        (
            {"Trackable": "TRUE", "Virtual": "yes"},
            "row 3, column Trackable: Virtual parts hold no stock, so they cannot be trackable.",
        ),
        ({"Minimum stock": "-1"}, "row 3, column Minimum stock: Must be at least 0."),
        ({"Name": ""}, "row 3, column Name: This column is required."),
    ],
)
def test_bad_cell_exact_message_and_nothing_imported(superuser, resistors, overrides, expected):
    text = parts_csv([part_row(1), part_row(2, **overrides), part_row(3)])
    run, summary = validate(superuser, "parts", text)
    assert messages(run) == [expected]
    assert summary["status"] == Status.INVALID and summary["errors"] == 1
    assert run.message == (
        "Nothing can be imported: 1 row has errors. Correct the file and upload it again."
    )
    assert engine.commit(run)["status"] == Status.INVALID  # an invalid run cannot be committed
    assert Part.objects.count() == 0


def test_duplicate_key_in_the_file_names_both_rows(superuser, resistors):
    text = parts_csv([part_row(1), part_row(2), part_row(3, IPN="r-00001")])
    run, _ = validate(superuser, "parts", text)
    assert messages(run) == [
        "row 4, column IPN: IPN 'r-00001' appears twice in the file: rows 2 and 4. "
        "Each row must describe a different entry."
    ]
    assert Part.objects.count() == 0


def test_bad_row_in_the_middle_of_5000_rows_imports_nothing(superuser, resistors, settings):
    settings.IMPORT_MAX_ROWS = 10_000
    rows = [part_row(i) for i in range(5000)]
    rows[2500] = part_row(2500, **{"Minimum stock": "lots"})
    run, summary = validate(superuser, "parts", parts_csv(rows))
    assert summary["errors"] == 1 and summary["new"] == 4999
    assert messages(run) == ["row 2502, column Minimum stock: 'lots' is not a number."]
    assert run.status == Status.INVALID and Part.objects.count() == 0


def test_a_row_failing_at_commit_in_the_middle_rolls_back_every_chunk(
    superuser, resistors, settings
):
    settings.IMPORT_CHUNK_ROWS = 500
    run, summary = validate(superuser, "parts", parts_csv([part_row(i) for i in range(2000)]))
    assert summary["status"] == Status.VALID and summary["new"] == 2000
    resistors.structural = True  # someone makes the category structural before the confirm
    resistors.save()
    PartCategory.objects.filter(pk=resistors.pk).update(structural=False)
    # ... and row 1,502's part is created by someone else in the meantime
    Part.objects.create(ipn="R-01500", name="Resistor 1500", category=resistors)
    summary = engine.commit(run)
    run.refresh_from_db()
    assert run.status == Status.FAILED and summary["status"] == Status.FAILED
    assert run.message.startswith("The import failed and nothing was imported: the data changed")
    assert messages(run) == [
        "row 1502: Changed since the preview (the preview showed it as new, now it is an "
        "update): someone edited the data in the meantime."
    ]
    assert Part.objects.count() == 1  # only the one created meanwhile; chunks 1-3 rolled back


# ---------------------------------------------------------------- preview vs commit


def test_change_between_preview_and_commit_fails_and_writes_nothing(superuser, resistors):
    part = Part.objects.create(ipn="R-00001", name="Old name", category=resistors)
    run, summary = validate(superuser, "parts", parts_csv([part_row(1), part_row(2)]))
    assert summary["updated"] == 1 and summary["new"] == 1
    Part.objects.filter(pk=part.pk).update(name="Renamed by someone else")
    engine.commit(run)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert messages(run) == [
        "row 2: Changed since the preview (what it changes is different from the preview): "
        "someone edited the data in the meantime."
    ]
    assert not Part.objects.filter(ipn="R-00002").exists()
    assert Part.objects.get(pk=part.pk).name == "Renamed by someone else"
    assert not run.file  # the upload is gone


def test_row_invalid_at_commit_reports_the_row(superuser, resistors):
    run, _ = validate(superuser, "parts", parts_csv([part_row(1)]))
    PartCategory.objects.filter(pk=resistors.pk).update(structural=True)
    engine.commit(run)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.message.startswith("The import failed and nothing was imported: 1 row no longer")
    assert messages(run) == [
        "row 2, column Category: Category 'Electronics/Resistors' is structural: choose one of "
        "its sub-categories."
    ]
    assert Part.objects.count() == 0


def test_new_rows_values_differing_from_the_preview_fail_the_commit(superuser, resistors):
    """The commit does not repeat a new row's field checks (lengths, digits, choices): its
    values are in the plan digest, so any value the preview did not see (here a valid
    one) refuses the whole commit."""
    run, summary = validate(superuser, "parts", parts_csv([part_row(1), part_row(2)]))
    assert summary["new"] == 2
    with open(run.file.path, "w", encoding="utf-8") as handle:  # the stored upload altered
        handle.write(parts_csv([part_row(1), part_row(2, **{"Minimum stock": "7"})]))
    engine.commit(run)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert messages(run) == [
        "row 3: Changed since the preview (what it changes is different from the preview): "
        "someone edited the data in the meantime."
    ]
    assert Part.objects.count() == 0


def test_second_confirm_is_a_harmless_no_op(superuser, resistors):
    run, _ = validate(superuser, "parts", parts_csv([part_row(1)]))
    first = engine.commit(run)
    assert first["status"] == Status.COMMITTED and first["new"] == 1
    history = Part.history.count()
    again = engine.commit(ImportRun.objects.get(pk=run.pk))
    assert again["status"] == Status.COMMITTED and again["already"] is True
    assert Part.objects.count() == 1 and Part.history.count() == history


def test_unexpected_error_at_commit_is_a_sentence_and_writes_nothing(
    superuser, resistors, monkeypatch
):
    from inventory.resources import PartResource

    run, _ = validate(superuser, "parts", parts_csv([part_row(1)]))

    def broken(self, results, *, ctx):
        raise IntegrityError("UNIQUE constraint failed: inventory_part.ipn")

    monkeypatch.setattr(PartResource, "commit", broken)
    engine.commit(run)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.message == (
        "The import failed and nothing was imported: A value that must be unique is already "
        "in use (someone may have changed the data since the preview)."
    )
    assert "UNIQUE constraint" not in run.message and Part.objects.count() == 0


def test_integrity_errors_use_the_constraints_own_message():
    error = IntegrityError("UNIQUE constraint failed: index 'part_unique_ipn_ci'")
    assert integrity_message(error, Part) == "Another part already uses this IPN."
    assert "Traceback" not in exception_message(ValueError("boom"))
    assert exception_message(ValueError("boom")) == (
        "An unexpected error stopped the import (details are in the server log)."
    )


# ---------------------------------------------------------------- history and no-ops


def test_history_attributed_created_by_set_and_no_history_for_unchanged_rows(superuser, resistors):
    existing = Part.objects.create(ipn="R-00001", name="Resistor 1", category=resistors)
    existing.minimum_stock = 5
    existing.save()
    before = existing.history.count()
    text = parts_csv([part_row(1), part_row(2)])  # row 1 is exactly what is stored
    run = import_file(superuser, "parts", text, filename="parts.csv")
    assert run.status == Status.COMMITTED
    assert (run.new_count, run.updated_count, run.unchanged_count) == (1, 0, 1)
    assert existing.history.count() == before  # no history row for a no-op
    new = Part.objects.get(ipn="R-00002")
    assert new.created_by == superuser
    [record] = new.history.all()
    assert record.history_type == "+" and record.history_user == superuser
    assert record.history_change_reason == f"Imported from parts.csv (import #{run.pk})"
    run2 = import_file(superuser, "parts", parts_csv([part_row(2, Name="Better name")]))
    latest = new.history.first()
    assert latest.history_type == "~" and latest.name == "Better name"
    assert latest.history_change_reason == f"Imported from upload.csv (import #{run2.pk})"
    assert (run2.updated_count, run2.new_count) == (1, 0)


def test_reimport_is_idempotent(superuser, resistors):
    text = parts_csv([part_row(i) for i in range(20)])
    first = import_file(superuser, "parts", text)
    history = Part.history.count()
    second = import_file(superuser, "parts", text)
    assert first.new_count == 20 and second.unchanged_count == 20 and second.new_count == 0
    assert Part.history.count() == history and Part.objects.count() == 20


# ---------------------------------------------------------------- permissions


def test_user_without_add_and_change_is_refused(resistors):
    reader = User.objects.create_user("reader", password="pw-read-123", is_staff=True)
    group = Group.objects.create(name="readers")
    set_group_roles(group, {"part": ("view",)})
    reader.groups.add(group)
    run, _ = validate(reader, "parts", parts_csv([part_row(1)]))
    assert run.status == Status.INVALID
    assert run.message == (
        "You may not import parts: importing needs permission to add and to change parts."
    )
    assert Part.objects.count() == 0


def test_engineer_may_import_parts_but_not_stock(engineer, resistors):
    assert import_file(engineer, "parts", parts_csv([part_row(1)])).status == Status.COMMITTED
    part = factories.PartFactory(ipn="S-1")
    text = csv_text(["Part", "Quantity"], [[part.ipn, "5"]])
    run, _ = validate(engineer, "stock_items", text)
    assert run.status == Status.INVALID
    assert run.message.startswith("You may not import stock items:")


def test_permission_is_checked_again_at_commit(engineer, resistors):
    run, _ = validate(engineer, "parts", parts_csv([part_row(1)]))
    engineer.groups.clear()
    engineer = User.objects.get(pk=engineer.pk)  # drop the permission cache
    run.user = engineer
    engine.commit(run)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "You may not import parts" in run.message
    assert Part.objects.count() == 0


# ---------------------------------------------------------------- files, jobs, reaper


def test_file_is_deleted_when_the_run_ends(superuser, resistors):
    run = make_run(superuser, "parts", parts_csv([part_row(1)]))
    path = run.file.path
    engine.validate(run)
    run.refresh_from_db()
    assert run.file and run.status == Status.VALID  # kept for the confirm
    engine.commit(run)
    run.refresh_from_db()
    assert not run.file
    import os

    assert not os.path.exists(path)


def test_small_files_run_inline_large_ones_as_jobs(superuser, resistors, settings):
    run = make_run(superuser, "parts", parts_csv([part_row(1), part_row(2)]))
    summary = start_validation(run)
    assert summary["job"] is None and summary["status"] == Status.VALID
    settings.IMPORT_JOB_BYTES = 10  # every file is "large" now
    run = make_run(superuser, "parts", parts_csv([part_row(3)]))
    summary = start_validation(run)
    job = summary["job"]
    assert job.action == ACTION and job.params == {"run": run.pk, "step": "validate"}
    run.refresh_from_db()
    assert run.job == job and run.status == Status.VALIDATING
    run_import_job(job)  # what the worker does
    run.refresh_from_db()
    job.refresh_from_db()
    assert run.status == Status.VALID and job.status == BackgroundJob.Status.SUCCEEDED
    commit = start_commit(run)
    assert commit["job"] is not None
    assert start_commit(ImportRun.objects.get(pk=run.pk))["status"] == Status.COMMITTING
    run_import_job(commit["job"])
    run.refresh_from_db()
    assert run.status == Status.COMMITTED and Part.objects.filter(ipn="R-00003").exists()
    run_import_job(BackgroundJob.objects.get(pk=commit["job"].pk))  # redelivered: no-op
    assert Part.objects.filter(ipn="R-00003").count() == 1


def test_many_small_rows_under_the_byte_threshold_validate_as_a_job(superuser, resistors):
    from django.conf import settings as django_settings

    from admin_customisations.importing.jobs import job_rows

    rows = job_rows() + 1
    text = parts_csv([part_row(i) for i in range(rows)])
    assert len(text.encode()) < django_settings.IMPORT_JOB_BYTES  # small in bytes, many rows
    run = make_run(superuser, "parts", text)
    summary = start_validation(run)
    run.refresh_from_db()
    job = BackgroundJob.objects.get(action=ACTION)
    assert summary["job"] == job == run.job
    assert job.params == {"run": run.pk, "step": "validate"}
    assert run.status == Status.VALIDATING and run.total_rows == 0  # not validated inline
    assert not Part.objects.exists()


def test_rows_up_to_the_row_threshold_validate_inline(superuser, resistors):
    from admin_customisations.importing.jobs import job_rows

    run = make_run(superuser, "parts", parts_csv([part_row(i) for i in range(job_rows())]))
    summary = start_validation(run)
    run.refresh_from_db()
    assert summary["job"] is None and run.job is None and not BackgroundJob.objects.exists()
    assert run.status == Status.VALID and run.total_rows == job_rows()


def test_xlsx_over_a_small_size_validates_as_a_job(superuser, resistors, monkeypatch):
    import io

    from admin_customisations.importing import jobs
    from admin_customisations.importing.writers import write_xlsx

    out = io.BytesIO()
    write_xlsx(HEADERS, [part_row(i) for i in range(50)], out)
    data = out.getvalue()
    run = make_run(superuser, "parts", data, filename="parts.xlsx")
    monkeypatch.setattr(jobs, "XLSX_JOB_BYTES", len(data) - 1)
    assert start_validation(run)["job"] is not None
    monkeypatch.setattr(jobs, "XLSX_JOB_BYTES", len(data))
    run = make_run(superuser, "parts", data, filename="parts.xlsx")
    assert start_validation(run)["job"] is None


def test_reaper_removes_abandoned_uploads_after_a_day(superuser, resistors):
    old = make_run(superuser, "parts", parts_csv([part_row(1)]))
    engine.validate(old)  # valid, never confirmed
    fresh = make_run(superuser, "parts", parts_csv([part_row(2)]))
    ImportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert remove_abandoned_files() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert not old.file and fresh.file
    assert old.status == Status.FAILED and old.message.startswith("Abandoned")
    from admin_customisations.jobs import runner

    assert runner.reap()["import_files_removed"] == 0


def test_run_whose_file_is_gone_says_so(superuser, resistors):
    run = make_run(superuser, "parts", parts_csv([part_row(1)]))
    run.delete_file()
    run.refresh_from_db()
    summary = engine.validate(run)
    assert summary["status"] == Status.INVALID
    assert summary["message"].startswith("The uploaded file is no longer available")
