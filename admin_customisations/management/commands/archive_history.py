"""``manage.py archive_history --older-than YEARS``: move old history to a compressed file.

History is never pruned by default. This writes every historical record older than YEARS
years (all tracked models, or those named with --model) to a gzip-compressed JSON-lines
file, checks the file, then deletes those records. See docs/history.md ("Retention").
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from admin_customisations.history.retention import (
    DELETE_BATCH,
    ArchiveError,
    archive_history,
)


class Command(BaseCommand):
    help = (
        "Archive historical records older than YEARS years to a gzip-compressed JSON-lines file, "
        "then delete them from the database (history is never pruned otherwise)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="YEARS",
            help="Archive records older than this many years (at least 1).",
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="Archive file to write (default: <STOCKROOM_VAR_DIR>/history-archive/"
            "history-before-<date>-<time>.jsonl.gz). Never overwritten.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count what would be archived; write and delete nothing.",
        )
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="APP.MODEL",
            help="Only this tracked model, e.g. inventory.part (repeatable; default: all).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DELETE_BATCH,
            help=f"Records deleted per transaction (default {DELETE_BATCH}).",
        )

    def handle(self, *args, **options):
        years = options["older_than"]
        if years < 1:
            raise CommandError(
                "History is kept for at least 1 year: --older-than must be 1 or more."
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            result = archive_history(
                years=years,
                output=options["output"],
                dry_run=options["dry_run"],
                labels=options["models"],
                batch_size=options["batch_size"],
            )
        except (ArchiveError, ValueError, OSError) as error:
            raise CommandError(str(error)) from None
        when = f"{result.cutoff:%Y-%m-%d %H:%M} UTC"
        for entry in result.models:
            if entry.found or entry.written:
                done = (
                    "" if result.dry_run else f", {entry.written} archived, {entry.deleted} deleted"
                )
                self.stdout.write(f"  {entry.label}: {entry.found} older than {when}{done}")
        if result.found == 0:
            self.stdout.write(f"No history older than {when}: nothing to archive.")
        elif result.dry_run:
            self.stdout.write(
                f"Dry run: {result.found} historical records older than {when} would be "
                "archived and deleted; nothing was written."
            )
        else:
            size = result.output.stat().st_size
            self.stdout.write(
                self.style.SUCCESS(
                    f"Archived {result.written} historical records older than {when} to "
                    f"{result.output} ({size:,} bytes) and deleted {result.deleted} from the database."
                )
            )
