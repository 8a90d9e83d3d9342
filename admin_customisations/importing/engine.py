"""The import engine: validate a run (the preview), then commit it all or nothing.

``validate(run)`` reads the file (``files.read_sheet``), checks the headers, and builds
every row in chunks of ``IMPORT_CHUNK_ROWS`` (default 1,000): one look-up query per
natural-key kind per chunk, ``full_clean`` per row without unique checks, then
uniqueness and object rules in bulk per chunk, and duplicate keys inside the file
(reported with both row numbers). Nothing is written. The run stores the counts, the
first 10,000 errors and the plan (one short digest per row) with its fingerprint.

``commit(run)`` runs the same steps again inside ONE transaction and writes each chunk
as soon as it is checked (new rows' field checks excepted: their values are in the plan,
see ``SheetResource.validate_instance``); if any row now fails, or the plan differs from the preview
(someone changed the data in between), the transaction is rolled back, nothing is
written and the run says why. History rows carry the importing user and the reason
"Imported from <file> (import #N)"; unchanged rows write nothing. Committing a run that
is already committed (a second click on Confirm) changes nothing and says so.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from admin_customisations.importing.keys import Lookups, norm
from admin_customisations.importing.messages import exception_message
from admin_customisations.importing.resource import (
    ERROR,
    NEW,
    UNCHANGED,
    UPDATE,
    CellError,
    ImportContext,
    RowErrors,
    resource_for,
)
from admin_customisations.models import ImportRun

log = logging.getLogger(__name__)
Status = ImportRun.Status
MAX_ERRORS = 10_000


def chunk_rows() -> int:
    return settings.IMPORT_CHUNK_ROWS


# ---------------------------------------------------------------- history attribution

_active_reason: contextvars.ContextVar = contextvars.ContextVar(
    "stockroom_import_reason", default=None
)


@contextmanager
def import_history(user, reason: str):
    """Every history record saved inside (one by one, e.g. by the stock services) gets
    ``reason`` and ``user``: the import's attribution overrides the service's own."""
    token = _active_reason.set((user, reason))
    try:
        yield
    finally:
        _active_reason.reset(token)


def _label_import_history(sender, history_instance, **kwargs):
    active = _active_reason.get()
    if active is None:
        return
    user, reason = active
    history_instance.history_change_reason = reason
    if user is not None and getattr(user, "pk", None) and not history_instance.history_user_id:
        history_instance.history_user = user


def _connect() -> None:
    from simple_history.signals import pre_create_historical_record

    pre_create_historical_record.connect(
        _label_import_history, dispatch_uid="stockroom_import_history_reason"
    )


_connect()


# ---------------------------------------------------------------- outcome


class ImportRefused(Exception):  # noqa: N818
    """The run cannot start (permission, unknown resource); the message is for the user."""


@dataclass
class Outcome:
    total: int = 0
    counts: dict = field(default_factory=lambda: {NEW: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0})
    errors: list = field(default_factory=list)
    error_total: int = 0
    plan: list = field(default_factory=list)
    numbers: list = field(default_factory=list)
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    stopped: bool = False  # commit stopped at the first failing chunk

    def add_error(self, error: CellError) -> None:
        self.error_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error.as_dict())

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("".join(self.plan).encode()).hexdigest()


def _open_sheet(run):
    from admin_customisations.importing.files import read_sheet

    handle = run.file.open("rb")
    return handle, read_sheet(handle, filename=run.original_name, delimiter=run.delimiter or None)


def match_headers(resource, headers: list[str]) -> tuple[dict[int, str], list[str]]:
    """{position in the file: canonical header} and the header problems as sentences."""
    known = {norm(h): h for h in resource.headers()}
    mapping: dict[int, str] = {}
    unknown, repeated = [], []
    for index, header in enumerate(headers):
        text = str(header or "").strip()
        if not text:
            continue
        canonical = known.get(norm(text))
        if canonical is None:
            unknown.append(text)
        elif canonical in mapping.values():
            repeated.append(canonical)
        else:
            mapping[index] = canonical
    problems = []
    expected = ", ".join(resource.headers())
    if unknown:
        problems.append(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: "
            f"{', '.join(repr(u) for u in unknown)}. The expected columns are: {expected}."
        )
    if repeated:
        problems.append(
            f"Column{'s' if len(repeated) > 1 else ''} given twice: {', '.join(repeated)}."
        )
    missing = [h for h in resource.required_headers() if h not in mapping.values()]
    keys_present = any(h in mapping.values() for h in resource.key_columns)
    if resource.key_columns and not keys_present:
        missing += [h for h in resource.key_columns[:1] if h not in missing]
    if missing:
        problems.append(
            f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"The expected columns are: {expected}."
        )
    return mapping, problems


def _check_duplicates(results, seen: dict, resource) -> None:
    for result in results:
        if result.key is None:
            continue
        first = seen.get(result.key)
        if first is None:
            seen[result.key] = result.number
            continue
        what = result.key_text or "This key"
        result.error(
            resource.key_columns[0] if resource.key_columns else "",
            f"{what} appears twice in the file: rows {first} and {result.number}. "
            "Each row must describe a different entry.",
        )


def process(run, *, write: bool, progress=None) -> Outcome:
    """Read, check and (``write=True``) write every row of ``run``. Raises ImportRefused."""
    resource = resource_for(run.resource)
    if resource is None:
        raise ImportRefused(f"There is no import for '{run.resource}'.")
    user = run.user
    if user is None or not user.is_active or not resource.may_import(user):
        raise ImportRefused(
            f"You may not import {resource.get_title().lower()}: importing needs permission "
            f"to add and to change {resource.model._meta.verbose_name_plural}."
        )
    if not run.file:
        raise ImportRefused(
            "The uploaded file is no longer available (uploads are kept until the import "
            "ends, at most a day); upload it again."
        )
    outcome = Outcome()
    handle, sheet = _open_sheet(run)
    try:
        outcome.format = sheet.format or ""
        outcome.encoding = sheet.encoding or ""
        outcome.delimiter = sheet.delimiter or ""
        if hasattr(resource, "for_headers"):  # one resource, several file shapes (BOM lines)
            resource = resource.for_headers(list(sheet.headers))
        mapping, problems = match_headers(resource, list(sheet.headers))
        if problems:
            for problem in problems:
                outcome.add_error(CellError(1, "", problem))
            outcome.counts[ERROR] = 0
            return outcome
        ctx = ImportContext(
            user=user,
            run=run,
            options=dict(run.options or {}),
            lookups=Lookups(),
            write=write,
            preview_checked=write,  # only commit() writes, and only a run validated clean
            headers=tuple(mapping.values()),
        )
        resource.start(ctx=ctx)
        seen: dict = {}
        rows = (
            (number, {h: (cells[i] if i < len(cells) else "") for i, h in mapping.items()})
            for number, cells in sheet.rows
        )
        if hasattr(resource, "regroup_rows"):  # e.g. BOM rows per designator -> per line
            rows = resource.regroup_rows(rows, ctx=ctx)
        size = chunk_rows()
        while True:
            prepared = list(islice(rows, size))
            if not prepared:
                break
            resource.prepare(prepared, ctx=ctx)
            results = [resource.build(row, number=number, ctx=ctx) for number, row in prepared]
            _check_duplicates(results, seen, resource)
            resource.check_chunk([r for r in results if not r.is_error], ctx=ctx)
            for result in results:
                outcome.total += 1
                if result.is_error:
                    outcome.counts[ERROR] += 1
                    for error in result.errors:
                        outcome.add_error(error)
                else:
                    outcome.counts[result.action] += 1
                outcome.plan.append(result.digest())
                outcome.numbers.append(result.number)
            if write:
                if outcome.counts[ERROR]:
                    outcome.stopped = True
                    break
                try:
                    resource.commit([r for r in results if r.action in (NEW, UPDATE)], ctx=ctx)
                except RowErrors as refused:
                    for error in refused.errors:
                        outcome.add_error(error)
                    outcome.counts[ERROR] += len({e.number for e in refused.errors}) or 1
                    outcome.stopped = True
                    break
            ctx.lookups.end_chunk()
            if progress is not None:
                progress(outcome.total)
        resource.finish(ctx=ctx)
    finally:
        close = getattr(sheet, "close", None)
        if close is not None:
            close()  # an XLSX workbook holds the file open
        handle.close()
    return outcome


# ---------------------------------------------------------------- validate


def _store(run, outcome: Outcome, **fields) -> None:
    for name, value in {
        "total_rows": outcome.total,
        "new_count": outcome.counts[NEW],
        "updated_count": outcome.counts[UPDATE],
        "unchanged_count": outcome.counts[UNCHANGED],
        "error_count": outcome.counts[ERROR] or (1 if outcome.errors else 0),
        "errors": outcome.errors,
        "format": outcome.format or run.format,
        "encoding": outcome.encoding or run.encoding,
        **fields,
    }.items():
        setattr(run, name, value)
    if outcome.delimiter and not run.delimiter:
        run.delimiter = outcome.delimiter  # detected; the commit reads the file the same way
    run.save()


def _fail(run, status, message: str, errors=None) -> dict:
    run.status = status
    run.message = message
    if errors is not None:
        run.errors = errors
        run.error_count = run.error_count or len(errors)
    run.finished_at = timezone.now()
    run.save()
    run.delete_file()
    return run.summary()


def describe(counts: dict) -> str:
    return f"{counts[NEW]} new, {counts[UPDATE]} updated, {counts[UNCHANGED]} unchanged"


def validate(run, *, progress=None) -> dict:
    """Check every row of ``run`` and store the preview (nothing is written)."""
    from admin_customisations.importing.files import SheetError

    if run.status in (Status.COMMITTED, Status.COMMITTING):
        return run.summary()
    run.status = Status.VALIDATING
    run.save(update_fields=["status"])
    try:
        outcome = process(run, write=False, progress=progress)
    except ImportRefused as refused:
        return _fail(run, Status.INVALID, str(refused), [CellError(0, "", str(refused)).as_dict()])
    except SheetError as error:
        message = " ".join(error.messages)
        return _fail(run, Status.INVALID, message, [CellError(0, "", message).as_dict()])
    except Exception as error:  # a bug must not become a 500 or raw text
        log.exception("Import #%s: validation failed", run.pk)
        message = exception_message(error)
        return _fail(run, Status.FAILED, message, [CellError(0, "", message).as_dict()])
    run.validated_at = timezone.now()
    if outcome.errors:
        rows = outcome.counts[ERROR]
        run.message = (
            f"Nothing can be imported: {rows} row{'s' if rows != 1 else ''} "
            f"{'have' if rows != 1 else 'has'} errors. Correct the file and upload it again."
            if rows
            else "Nothing can be imported: " + " ".join(e["message"] for e in outcome.errors)
        )
        _store(run, outcome, status=Status.INVALID, fingerprint="", plan="")
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
        run.delete_file()
        return run.summary()
    if outcome.total == 0:
        run.message = "The file has no data rows: nothing to import."
        _store(run, outcome, status=Status.INVALID, fingerprint="", plan="")
        run.delete_file()
        return run.summary()
    run.message = f"Ready to import: {describe(outcome.counts)}."
    _store(
        run,
        outcome,
        status=Status.VALID,
        fingerprint=outcome.fingerprint,
        plan="".join(outcome.plan),
    )
    return run.summary()


# ---------------------------------------------------------------- commit


class _Abort(Exception):  # noqa: N818
    def __init__(self, message: str, errors: list):
        super().__init__(message)
        self.message = message
        self.errors = errors


def _plan_differences(previewed: str, outcome: Outcome, limit: int = 50) -> list[dict]:
    width = 8
    before = [previewed[i : i + width] for i in range(0, len(previewed), width)]
    words = {"n": "new", "u": "an update", "e": "an error"}
    out = []
    for index, now in enumerate(outcome.plan):
        then = before[index] if index < len(before) else ""
        if now == then:
            continue
        if then[:1] != now[:1]:
            detail = (
                f"the preview showed it as {words.get(then[:1], 'unchanged')}, now it is "
                f"{words.get(now[:1], 'unchanged')}"
            )
        else:
            detail = "what it changes is different from the preview"
        out.append(
            {
                "row": outcome.numbers[index],
                "column": "",
                "message": f"Changed since the preview ({detail}): someone edited the data in "
                "the meantime.",
                "_index": index,
            }
        )
        if len(out) >= limit:
            break
    return out


def commit(run, *, progress=None, resume: bool = False) -> dict:
    """Write what the preview showed, all or nothing (see the module docstring).

    ``resume=True`` (the job runner re-running a job whose worker died) also accepts a
    run left in "importing"; otherwise a second confirm while the first is still running
    changes nothing."""
    from admin_customisations.importing.files import SheetError

    with transaction.atomic():
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == Status.COMMITTED:
            locked.message = locked.message or "Already imported."
            return {**locked.summary(), "already": True}
        if locked.status == Status.COMMITTING and not resume:
            return {
                **locked.summary(),
                "already": True,
                "message": "This import is already running.",
            }
        if locked.status not in (Status.VALID, Status.COMMITTING):
            return {
                **locked.summary(),
                "message": locked.message
                or "This import has not been validated; nothing was imported.",
            }
        ImportRun.objects.filter(pk=run.pk).update(status=Status.COMMITTING)
    run.refresh_from_db()
    previewed = run.plan
    try:
        with transaction.atomic():
            with import_history(run.user, run.history_reason):
                outcome = process(run, write=True, progress=progress)
            if outcome.errors:
                rows = outcome.counts[ERROR]
                raise _Abort(
                    f"The import failed and nothing was imported: {rows or 'some'} "
                    f"row{'s' if rows != 1 else ''} no longer pass{'es' if rows == 1 else ''} "
                    "the checks (the data changed since the preview). Validate the file again.",
                    outcome.errors,
                )
            if outcome.fingerprint != run.fingerprint:
                diffs = _plan_differences(previewed, outcome)
                raise _Abort(
                    "The import failed and nothing was imported: the data changed since the "
                    f"preview ({len(diffs)}{'+' if len(diffs) >= 50 else ''} row"
                    f"{'s' if len(diffs) != 1 else ''} would now do something else). "
                    "Validate the file again to see the current changes.",
                    diffs,
                )
    except _Abort as abort:
        errors = abort.errors
        for e in errors:
            e.pop("_index", None)
        run.refresh_from_db()
        run.error_count = len(errors)
        return _fail(run, Status.FAILED, abort.message, errors)
    except (ImportRefused, SheetError) as error:
        message = f"The import failed and nothing was imported: {error}"
        if isinstance(error, SheetError):
            message = "The import failed and nothing was imported: " + " ".join(error.messages)
        run.refresh_from_db()
        return _fail(run, Status.FAILED, message, [CellError(0, "", message).as_dict()])
    except (ValidationError, DatabaseError, Exception) as error:  # noqa: BLE001
        log.exception("Import #%s: commit failed", run.pk)
        resource = resource_for(run.resource)
        message = "The import failed and nothing was imported: " + exception_message(
            error, resource.model if resource else None
        )
        run.refresh_from_db()
        return _fail(run, Status.FAILED, message, [CellError(0, "", message).as_dict()])
    run.refresh_from_db()
    run.status = Status.COMMITTED
    run.committed_at = run.finished_at = timezone.now()
    run.new_count = outcome.counts[NEW]
    run.updated_count = outcome.counts[UPDATE]
    run.unchanged_count = outcome.counts[UNCHANGED]
    run.error_count = 0
    run.message = f"Imported: {describe(outcome.counts)}."
    run.save()
    run.delete_file()
    return run.summary()
