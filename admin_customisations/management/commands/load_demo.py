"""``manage.py load_demo``: demo accounts and demo data, idempotently."""

from django.core.management.base import BaseCommand

from fixtures.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from fixtures.demo.load import load_demo_data


class Command(BaseCommand):
    help = "Create the demo accounts and load the demo dataset (safe to run repeatedly)."

    def handle(self, *args, **options):
        touched = ensure_demo_accounts()
        if touched:
            self.stdout.write(f"Demo accounts created or reset: {', '.join(touched)}")
        else:
            self.stdout.write("Demo accounts already in place.")
        if load_demo_data():
            self.stdout.write("Demo dataset loaded.")
        else:
            self.stdout.write("Demo dataset already loaded.")
        self.stdout.write("Demo logins: " + ", ".join(f"{u}/{p}" for u, p, _, _ in DEMO_ACCOUNTS))
