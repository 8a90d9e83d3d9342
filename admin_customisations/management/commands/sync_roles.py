"""``manage.py sync_roles``: make every group's Django permissions match its roles."""

from django.core.management.base import BaseCommand

from admin_customisations.roles import sync_all_groups
from inventory.services.actors import acting_as


class Command(BaseCommand):
    help = "Make every group's model permissions exactly what its roles grant (idempotent)."

    def handle(self, *args, **options):
        with acting_as("command", reason="manage.py sync_roles"):
            changed = sync_all_groups()
        self.stdout.write(
            f"Permissions updated for: {', '.join(changed)}"
            if changed
            else "Group permissions already match their roles."
        )
