"""docs/permissions.md matches the admin, and every page enforces it (403, never 500)."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from admin_customisations.permission_table import DEMO_USERS, permission_matrix, render_markdown
from fixtures.accounts import ensure_demo_accounts
from tests.admin_cases import ADMIN_CASES

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


@pytest.fixture
def demo_users():
    ensure_demo_accounts()
    return [User.objects.get(username=name) for name in DEMO_USERS]


def test_permission_doc_is_current(demo_users):
    assert DOC.read_text() == render_markdown(demo_users), (
        "docs/permissions.md is out of date: run `.venv/bin/python manage.py permissions_table > docs/permissions.md`"
    )


def test_every_page_answers_as_documented(client, demo_users):
    objects = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        objects[label] = (
            ADMIN_CASES[label].make() if label in ADMIN_CASES else model.objects.first()
        )
    matrix = permission_matrix(demo_users)
    failures = []
    for user in demo_users:
        client.force_login(user)
        for label, rights in matrix.items():
            app_label, model_name = label.split(".")
            expected = rights[user.username]
            obj = objects[label]
            pages = {"changelist": ("V", None), "add": ("A", None)}
            if obj is not None:
                pages |= {"change": ("V", obj.pk), "delete": ("D", obj.pk)}
            for page, (letter, pk) in pages.items():
                url = reverse(f"admin:{app_label}_{model_name}_{page}", args=[pk] if pk else [])
                status = client.get(url).status_code
                wanted = 200 if letter in expected else 403
                if status != wanted:
                    failures.append(f"{user.username} {page} {label}: {status}, expected {wanted}")
    assert failures == []
