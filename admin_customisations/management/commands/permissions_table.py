"""``manage.py permissions_table``: print docs/permissions.md for the demo accounts."""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from admin_customisations.permission_table import DEMO_USERS, render_markdown
from fixtures.accounts import ensure_demo_accounts


class Command(BaseCommand):
    help = "Print the permission table (docs/permissions.md) computed from the admin for the demo accounts."

    def handle(self, *args, **options):
        with transaction.atomic():
            ensure_demo_accounts()
            users = [User.objects.get(username=name) for name in DEMO_USERS]
            self.stdout.write(render_markdown(users), ending="")
            transaction.set_rollback(True)  # printing the table changes nothing
