"""``manage.py sync_change_log``: log historical records the change log does not hold yet."""

from django.core.management.base import BaseCommand
from django.db import transaction

from admin_customisations.history.changelog import catch_up


class Command(BaseCommand):
    help = (
        "Add change-log entries for historical records written without one (rows inserted by "
        "raw SQL, a restored backup of the history tables). Idempotent."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            written = catch_up()
        self.stdout.write(f"{written} change log entries added.")
