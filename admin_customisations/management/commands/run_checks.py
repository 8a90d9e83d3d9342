"""``manage.py run_checks``: run the scheduled checks now (as the scheduler would)."""

from django.core.management.base import BaseCommand

from admin_customisations.notifications.checks import CHECKS, run_check
from inventory.services.actors import acting_as


class Command(BaseCommand):
    help = "Run the scheduled checks now and email what they raised (docs/notifications.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="append", choices=sorted(CHECKS), help="Only this check (repeatable)."
        )

    def handle(self, *args, check=None, **options):
        for name in check or CHECKS:
            with acting_as("scheduler", reason=f"manage.py run_checks: {name}"):
                raised = run_check(name)
            self.stdout.write(f"{name}: {raised} notification{'' if raised == 1 else 's'} raised")
