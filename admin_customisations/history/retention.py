"""History retention: archiving historical records older than N years, then deleting them.

History is never pruned by default. ``manage.py archive_history --older-than N`` (N ≥ 1
years) writes every historical record of every tracked model older than the cutoff to one
gzip-compressed JSON-lines file, syncs it to disk, reads it back to check the line count,
and only then deletes exactly those rows, in batches, each batch in its own transaction.

One line per record::

    {"model": "inventory.part", "history_model": "inventory.historicalpart",
     "history_id": 17, "history_date": "2019-03-01T10:00:00Z", "history_type": "~",
     "history_user_id": 3, "history_change_reason": "Edited", "fields": {"id": 5, ...}}

``fields`` are the tracked columns (foreign keys as ``<name>_id``; decimals, dates and
times as strings, as Django's JSON encoder writes them).

Other tables that refer to historical records (the system-wide change log) must forget the
deleted ones: ``forget_history(history_model, history_ids)`` is called inside each
deleting transaction with the ids about to go.
"""

import gzip
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from admin_customisations.history.changelog import history_model_of, tracked_models

HISTORY_FIELDS = (
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "history_change_reason",
)
DELETE_BATCH = 2000
READ_CHUNK = 2000


class ArchiveError(Exception):
    """The archive could not be written or verified; nothing was deleted."""


def forget_history(history_model, history_ids: list[int]) -> None:
    """``history_ids`` of ``history_model`` are about to be deleted (same transaction): their
    change log entries go with them."""
    from django.contrib.contenttypes.models import ContentType

    from admin_customisations.history.models import ChangeLogEntry

    content_type = ContentType.objects.get_for_model(history_model.instance_type)
    ChangeLogEntry.objects.filter(content_type=content_type, history_id__in=history_ids).delete()


def history_tables(labels: Iterable[str] | None = None) -> list[tuple[type, type]]:
    """[(tracked model, its historical model)] of every model simple-history tracks, sorted by
    label; only those named in ``labels`` ("app_label.model_name") if given."""
    found = {m._meta.label_lower: (m, history_model_of(m)) for m in tracked_models()}
    if labels:
        wanted = [label.lower() for label in labels]
        unknown = sorted(set(wanted) - set(found))
        if unknown:
            raise ValueError(
                f"Not a tracked model: {', '.join(unknown)}. Tracked models: "
                f"{', '.join(sorted(found))}."
            )
        found = {label: found[label] for label in wanted}
    return [found[label] for label in sorted(found)]


def cutoff_for(years: int, now: datetime | None = None) -> datetime:
    """``now`` minus ``years`` calendar years (29 February becomes 28 February)."""
    if years < 1:
        raise ValueError("History is kept for at least 1 year: --older-than must be 1 or more.")
    now = now or timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def default_output(cutoff: datetime) -> Path:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    return (
        Path(settings.VAR_DIR)
        / "history-archive"
        / f"history-before-{cutoff:%Y-%m-%d}-{stamp}.jsonl.gz"
    )


@dataclass
class ModelArchive:
    model: type
    history_model: type
    found: int = 0  # rows older than the cutoff when counted
    written: int = 0
    deleted: int = 0
    last_id: int | None = None  # highest history_id written

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


@dataclass
class ArchiveResult:
    cutoff: datetime
    output: Path | None
    dry_run: bool
    models: list[ModelArchive] = field(default_factory=list)

    @property
    def found(self) -> int:
        return sum(m.found for m in self.models)

    @property
    def written(self) -> int:
        return sum(m.written for m in self.models)

    @property
    def deleted(self) -> int:
        return sum(m.deleted for m in self.models)


def _old(entry: ModelArchive, cutoff):
    return entry.history_model._default_manager.filter(history_date__lt=cutoff)


def _line(entry: ModelArchive, row: dict) -> str:
    record = {"model": entry.label, "history_model": entry.history_model._meta.label_lower}
    for name in HISTORY_FIELDS:
        record[name] = row.pop(name, None)
    record["fields"] = row
    return json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False)


def _write(entries: list[ModelArchive], cutoff, partial: Path) -> None:
    partial.parent.mkdir(parents=True, exist_ok=True)
    name = partial.name.removesuffix(".partial")
    with open(partial, "xb") as raw:
        with gzip.GzipFile(filename=name, mode="wb", fileobj=raw, compresslevel=6) as out:
            for entry in entries:
                rows = _old(entry, cutoff).order_by("history_id").values()
                lines = []
                for row in rows.iterator(chunk_size=READ_CHUNK):
                    history_id = row["history_id"]
                    lines.append(_line(entry, row))
                    entry.written += 1
                    entry.last_id = history_id
                    if len(lines) == READ_CHUNK:  # one compress call per chunk, not per line
                        out.write(("\n".join(lines) + "\n").encode())
                        lines = []
                if lines:
                    out.write(("\n".join(lines) + "\n").encode())
        raw.flush()
        os.fsync(raw.fileno())


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_LABEL_AT = len('{"model": "')


def _verify(entries: list[ModelArchive], partial: Path) -> None:
    """Read the file back (decompressing it all) and count its lines per model."""
    counts: dict[str, int] = {}
    with gzip.open(partial, "rt", encoding="utf-8") as archive:
        for line in archive:
            # every line starts with the model label (see _line): no need to parse it all
            label = line[_LABEL_AT : line.find('"', _LABEL_AT)]
            counts[label] = counts.get(label, 0) + 1
    for entry in entries:
        if counts.get(entry.label, 0) != entry.written:
            raise ArchiveError(
                f"The archive holds {counts.get(entry.label, 0)} records of {entry.label}, "
                f"{entry.written} were written: nothing was deleted."
            )
    if sum(counts.values()) != sum(entry.written for entry in entries):
        raise ArchiveError("The archive holds records nobody wrote: nothing was deleted.")


def _delete(entry: ModelArchive, cutoff, batch_size: int) -> None:
    """Delete the archived rows (older than the cutoff, id up to the last one written), walking
    the primary key from where the previous batch stopped (each batch reads only its rows)."""
    if entry.last_id is None:
        return
    archived = _old(entry, cutoff).filter(history_id__lte=entry.last_id).order_by("history_id")
    after = None
    while True:
        with transaction.atomic():
            batch = archived if after is None else archived.filter(history_id__gt=after)
            ids = list(batch.values_list("history_id", flat=True)[:batch_size])
            if not ids:
                return
            forget_history(entry.history_model, ids)
            deleted, _ = entry.history_model._default_manager.filter(history_id__in=ids).delete()
            entry.deleted += deleted
            after = ids[-1]


def archive_history(
    *,
    years: int,
    output: Path | None = None,
    dry_run: bool = False,
    labels: Iterable[str] | None = None,
    batch_size: int = DELETE_BATCH,
    now: datetime | None = None,
) -> ArchiveResult:
    """Archive, verify, then delete the historical records older than ``years`` years."""
    cutoff = cutoff_for(years, now)
    entries = [ModelArchive(model, history) for model, history in history_tables(labels)]
    for entry in entries:
        entry.found = _old(entry, cutoff).count()
    result = ArchiveResult(cutoff=cutoff, output=None, dry_run=dry_run, models=entries)
    if dry_run or result.found == 0:
        return result
    output = Path(output) if output else default_output(cutoff)
    if output.exists():
        raise ArchiveError(f"{output} exists already: choose another --output.")
    partial = output.with_name(output.name + ".partial")
    try:
        _write(entries, cutoff, partial)
        _verify(entries, partial)
    except FileExistsError:
        raise ArchiveError(f"{partial} exists (another run?): remove it or wait.") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(output)
    _sync_directory(output.parent)
    result.output = output
    for entry in entries:
        _delete(entry, cutoff, batch_size)
    return result


def read_archive(path: Path) -> list[dict]:
    """Every record of an archive file (for checks and tests)."""
    with gzip.open(path, "rt", encoding="utf-8") as archive:
        return [json.loads(line) for line in archive]
