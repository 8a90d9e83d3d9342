"""``manage.py sync_schedules``: install Stockroom's periodic tasks (idempotent)."""

from django.core.management.base import BaseCommand

from admin_customisations.schedules import sync_schedules
from inventory.services.actors import acting_as


class Command(BaseCommand):
    help = "Create Stockroom's periodic tasks in django-celery-beat (existing ones are kept as edited)."

    def handle(self, *args, **options):
        with acting_as("command", reason="manage.py sync_schedules"):
            created = sync_schedules()
        self.stdout.write(
            f"Created: {', '.join(created)}" if created else "All schedules already installed."
        )
