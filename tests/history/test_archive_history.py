"""``manage.py archive_history``: old history goes to a gzip JSON-lines file, then out of the
database; newer history stays; a dry run and a second run change nothing."""

import gzip
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from admin_customisations.history import retention
from admin_customisations.history.retention import history_tables, read_archive
from inventory.models import Part, StockItem
from inventory.services.common import save_with_history
from orders.models import Company
from tests import factories

pytestmark = pytest.mark.django_db

OLD = timezone.now() - timedelta(days=365 * 6)


def age(records):
    """Make these historical records six years old."""
    type(records[0])._default_manager.filter(history_id__in=[r.history_id for r in records]).update(
        history_date=OLD
    )


@pytest.fixture
def history():
    """Two parts and a company with old history, and newer history of one of the parts."""
    first = factories.PartFactory(name="Old part", ipn="OLD-1", category=None)
    second = factories.PartFactory(name="Other part", ipn="OLD-2", category=None)
    company = factories.CompanyFactory(name="Old Co")
    old = [first.history.get(), second.history.get()]
    age(old)
    company_record = company.history.get()
    age([company_record])
    first.description = "changed recently"
    save_with_history(first, user=None, reason="Edited")
    recent = first.history.order_by("-history_id").first()
    return {"old_parts": old, "company": company_record, "recent": recent, "part": first}


def run(*args):
    out = StringIO()
    call_command("archive_history", *args, stdout=out)
    return out.getvalue()


def part_history_ids():
    return set(Part.history.values_list("history_id", flat=True))


def test_archives_exactly_the_old_records_then_deletes_them(history, tmp_path):
    target = tmp_path / "archive.jsonl.gz"
    newer_parts = part_history_ids() - {r.history_id for r in history["old_parts"]}

    output = run("--older-than", "5", "--output", str(target))

    records = read_archive(target)
    written = {(r["model"], r["history_id"]) for r in records}
    old_parts = {("inventory.part", r.history_id) for r in history["old_parts"]}
    company = ("orders.company", history["company"].history_id)
    assert written == old_parts | {company}
    line = next(r for r in records if r["history_id"] == history["old_parts"][0].history_id)
    assert line["history_model"] == "inventory.historicalpart"
    assert line["history_type"] == "+"
    assert line["fields"]["ipn"] == "OLD-1"
    assert line["fields"]["minimum_stock"] == "0.00000"  # decimals as text
    assert line["history_date"].startswith(f"{OLD:%Y-%m-%d}")
    # deleted from the database; newer history stays
    assert part_history_ids() == newer_parts
    assert history["recent"].history_id in newer_parts
    assert not Company.history.filter(history_date__lt=OLD + timedelta(days=1)).exists()
    assert Part.objects.count() == 2  # the objects themselves are untouched
    assert "Archived 3 historical records" in output
    assert "inventory.part: 2 older than" in output


def test_the_file_is_gzip_json_lines(history, tmp_path):
    target = tmp_path / "archive.jsonl.gz"
    run("--older-than", "5", "--output", str(target))
    with gzip.open(target, "rt", encoding="utf-8") as archive:
        lines = archive.read().splitlines()
    assert len(lines) == 3
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert not (tmp_path / "archive.jsonl.gz.partial").exists()


def test_dry_run_writes_and_deletes_nothing(history, tmp_path):
    before = part_history_ids()
    output = run("--older-than", "5", "--dry-run", "--output", str(tmp_path / "a.jsonl.gz"))
    assert "Dry run: 3 historical records" in output
    assert list(tmp_path.iterdir()) == []
    assert part_history_ids() == before


def test_a_second_run_finds_nothing(history, tmp_path):
    run("--older-than", "5", "--output", str(tmp_path / "first.jsonl.gz"))
    after_first = part_history_ids()
    output = run("--older-than", "5", "--output", str(tmp_path / "second.jsonl.gz"))
    assert "nothing to archive" in output
    assert not (tmp_path / "second.jsonl.gz").exists()
    assert part_history_ids() == after_first


def test_newer_history_is_kept_at_a_longer_period(history, tmp_path):
    before = part_history_ids()
    assert "nothing to archive" in run("--older-than", "7", "--output", str(tmp_path / "a.gz"))
    assert part_history_ids() == before


@pytest.mark.parametrize("years", ["0", "-1"])
def test_less_than_a_year_is_refused(history, tmp_path, years):
    before = part_history_ids()
    with pytest.raises(CommandError, match="at least 1 year"):
        run("--older-than", years, "--output", str(tmp_path / "a.gz"))
    assert part_history_ids() == before


def test_only_the_named_models(history, tmp_path):
    target = tmp_path / "companies.jsonl.gz"
    before = part_history_ids()
    run("--older-than", "5", "--output", str(target), "--model", "orders.company")
    assert {r["model"] for r in read_archive(target)} == {"orders.company"}
    assert part_history_ids() == before
    with pytest.raises(CommandError, match="Not a tracked model: inventory.nothing"):
        run("--older-than", "5", "--model", "inventory.nothing")


def test_an_existing_output_file_is_never_overwritten(history, tmp_path):
    target = tmp_path / "archive.jsonl.gz"
    target.write_bytes(b"keep me")
    before = part_history_ids()
    with pytest.raises(CommandError, match="exists already"):
        run("--older-than", "5", "--output", str(target))
    assert target.read_bytes() == b"keep me"
    assert part_history_ids() == before


def test_default_output_under_the_var_dir(history, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    output = run("--older-than", "5")
    files = list((tmp_path / "history-archive").glob("history-before-*.jsonl.gz"))
    assert len(files) == 1
    assert str(files[0]) in output
    assert len(read_archive(files[0])) == 3


def test_deletes_in_batches_and_tells_the_hook(history, tmp_path, monkeypatch):
    parts = [factories.PartFactory(category=None) for _ in range(4)]
    age([p.history.get() for p in parts])
    old_ids = set(
        Part.history.filter(history_date__lt=OLD + timedelta(days=1)).values_list(
            "history_id", flat=True
        )
    )
    forgotten = []
    monkeypatch.setattr(
        retention,
        "forget_history",
        lambda history_model, ids: forgotten.append((history_model, list(ids))),
    )
    run("--older-than", "5", "--output", str(tmp_path / "a.gz"), "--batch-size", "2")
    part_batches = [ids for model, ids in forgotten if model is Part.history.model]
    assert all(len(ids) <= 2 for ids in part_batches)
    assert {i for ids in part_batches for i in ids} == old_ids
    assert not Part.history.filter(history_id__in=old_ids).exists()


def test_every_tracked_model_is_archived():
    labels = {model._meta.label_lower for model, _history in history_tables()}
    assert {"inventory.part", "inventory.stockitem", "orders.company"} <= labels
    assert StockItem._meta.label_lower in labels


def test_archived_history_leaves_the_change_log_too(tmp_path, superuser):
    """The change log's entries of archived records are deleted with them; newer ones stay."""
    from datetime import timedelta

    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.utils import timezone

    from admin_customisations.history.models import ChangeLogEntry
    from inventory.models import Part
    from tests import factories

    old, new = factories.PartFactory(name="Old part"), factories.PartFactory(name="New part")
    long_ago = timezone.now() - timedelta(days=365 * 6)
    Part.history.filter(id=old.pk).update(history_date=long_ago)
    part_type = ContentType.objects.get_for_model(Part)
    old_ids = set(Part.history.filter(id=old.pk).values_list("history_id", flat=True))
    call_command("archive_history", "--older-than", "5", "--output", str(tmp_path / "a.jsonl.gz"))
    logged = set(
        ChangeLogEntry.objects.filter(content_type=part_type).values_list("history_id", flat=True)
    )
    assert not old_ids & logged
    assert ChangeLogEntry.objects.filter(content_type=part_type, object_id=new.pk).exists()
