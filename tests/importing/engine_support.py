"""Helpers for the import engine tests: upload a CSV as an ImportRun, validate, commit."""

import csv
import io

from django.core.files.base import ContentFile

from admin_customisations.importing import engine
from admin_customisations.models import ImportRun


def csv_text(headers, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def make_run(user, resource: str, text, *, filename="upload.csv", options=None) -> ImportRun:
    data = text.encode("utf-8") if isinstance(text, str) else text
    run = ImportRun(resource=resource, original_name=filename, user=user, options=options or {})
    run.file.save(filename, ContentFile(data), save=False)
    run.file_size = len(data)
    run.save()
    return run


def validate(user, resource, text, **kwargs):
    run = make_run(user, resource, text, **kwargs)
    summary = engine.validate(run)
    run.refresh_from_db()
    return run, summary


def import_file(user, resource, text, **kwargs):
    """Validate and commit; returns the run (refreshed)."""
    run, summary = validate(user, resource, text, **kwargs)
    if run.status == ImportRun.Status.VALID:
        engine.commit(run)
        run.refresh_from_db()
    return run


def messages(run) -> list[str]:
    """The run's errors as the preview shows them: 'row N, column X: message'."""
    out = []
    for e in run.errors:
        where = f"row {e['row']}" if e["row"] else "file"
        out.append(
            f"{where}, column {e['column']}: {e['message']}"
            if e["column"]
            else f"{where}: {e['message']}"
        )
    return out
