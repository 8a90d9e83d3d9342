"""The system-wide change log: complete (one entry per historical record, whatever wrote it),
filtered, searched, scoped to what each user may view, exported, and rendered in a number of
queries that does not grow with the history."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from admin_customisations.history import changelog
from admin_customisations.history.models import ChangeLogEntry
from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob
from fixtures.accounts import ensure_demo_accounts
from inventory.choices import StockStatus
from inventory.models import Part, StockItem
from inventory.services.common import save_with_history
from inventory.services.stock import stock_item_change_status
from orders.models import PurchaseOrder
from tests import factories
from tests.importing.engine_support import csv_text, import_file

pytestmark = pytest.mark.django_db

URL = "/admin/admin_customisations/changelogentry/"


def assert_every_record_is_logged():
    for model in changelog.tracked_models():
        history = changelog.history_model_of(model)
        content_type = ContentType.objects.get_for_model(model)
        recorded = set(history.objects.values_list("history_id", flat=True))
        logged = set(
            ChangeLogEntry.objects.filter(content_type=content_type).values_list(
                "history_id", flat=True
            )
        )
        assert recorded == logged, model._meta.label


@pytest.fixture
def accounts(db):
    ensure_demo_accounts()
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def some_history(superuser):
    part = factories.PartFactory(name="Hex bolt M3", ipn="HB-3")
    item = factories.StockItemFactory(part=part, quantity=Decimal(5))
    stock_item_change_status(item=item, status=StockStatus.DAMAGED, user=superuser)
    order = factories.PurchaseOrderFactory(description="Bolts for Q3")
    return {"part": part, "item": item, "order": order}


def test_single_saves_bulk_jobs_and_imports_are_all_logged(superuser, some_history, settings):
    settings.BULK_JOB_CHUNK_SIZE = 2
    for _ in range(4):
        factories.StockItemFactory(part=some_history["part"])
    job = BackgroundJob.objects.create(
        name="change_status",
        task_name="stockroom.run_bulk_job",
        action="inventory.stockitem:change_status",
        params={"status": ["50"], "notes": [""]},
        selection={"ids": list(StockItem.objects.values_list("pk", flat=True))},
        created_by=superuser,
    )
    runner.run_job(job.pk)
    text = csv_text(["Name", "IPN", "Category"], [["Washer M3", "W-3", ""], ["Nut M3", "N-3", ""]])
    import_file(superuser, "parts", text)
    assert Part.objects.filter(ipn__in=["W-3", "N-3"]).count() == 2
    assert_every_record_is_logged()
    entry = ChangeLogEntry.objects.filter(object_repr__contains="W-3").get()
    assert entry.history_type == "+" and entry.user == superuser
    assert ChangeLogEntry.objects.filter(reason__contains=f"(job #{job.pk})").count() == 5


def test_entries_carry_who_what_why_and_a_searchable_name(superuser, some_history):
    entry = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(StockItem), history_type="~"
    ).latest("history_id")
    assert entry.user == superuser
    assert entry.object_id == some_history["item"].pk
    assert entry.object_repr.startswith("HB-3 · Hex bolt M3")
    assert entry.reason  # the service's reason


def test_catch_up_logs_what_no_writer_announced(superuser):
    part = factories.PartFactory(name="Quiet part")
    ChangeLogEntry.objects.all().delete()
    written = changelog.catch_up()
    assert written >= 1
    assert_every_record_is_logged()
    assert changelog.catch_up() == 0  # idempotent
    assert ChangeLogEntry.objects.filter(
        object_id=part.pk, object_repr__endswith="Quiet part"
    ).exists()


def test_the_list_shows_diffs_and_links(admin_client_root, some_history):
    page = admin_client_root.get(URL)
    text = page.content.decode()
    assert page.status_code == 200
    assert "OK → Damaged" in text
    item_url = reverse("admin:inventory_stockitem_change", args=[some_history["item"].pk])
    assert item_url in text


def _rows(client, query=""):
    page = client.get(f"{URL}?{query}")
    assert page.status_code == 200
    return [entry.pk for entry in page.context["cl"].result_list]


def test_filters(admin_client_root, superuser, some_history, accounts):
    engineer = accounts["engineer"]
    part = Part.objects.get(pk=some_history["part"].pk)
    part.description = "Changed by the engineer"
    save_with_history(part, user=engineer, reason="Spec sheet update")
    everything = ChangeLogEntry.objects.all()

    by_user = _rows(admin_client_root, f"user__id__exact={engineer.pk}")
    assert set(by_user) == set(everything.filter(user=engineer).values_list("pk", flat=True))
    assert by_user

    part_type = ContentType.objects.get_for_model(Part)
    by_model = _rows(admin_client_root, f"model={part_type.pk}")
    assert set(by_model) == set(
        everything.filter(content_type=part_type).values_list("pk", flat=True)
    )

    created = _rows(admin_client_root, "history_type__exact=%2B")
    assert created and all(everything.get(pk=pk).history_type == "+" for pk in created)

    by_reason = _rows(admin_client_root, "reason__icontains=spec+sheet")
    assert [everything.get(pk=pk).reason for pk in by_reason] == ["Spec sheet update"]

    found = _rows(admin_client_root, "q=HB-3")
    assert found and all("HB-3" in everything.get(pk=pk).object_repr for pk in found)

    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d")
    later = _rows(admin_client_root, f"history_date_from_0={tomorrow}&history_date_from_1=00:00")
    assert later == []
    today = timezone.localtime().strftime("%Y-%m-%d")
    since_today = _rows(admin_client_root, f"history_date_from_0={today}&history_date_from_1=00:00")
    assert len(since_today) == min(everything.count(), 50)


def test_newest_first(admin_client_root, some_history):
    rows = _rows(admin_client_root)
    dates = [ChangeLogEntry.objects.get(pk=pk).history_date for pk in rows]
    assert dates == sorted(dates, reverse=True)


def test_users_see_only_models_they_may_view(client, accounts, some_history):
    order_type = ContentType.objects.get_for_model(PurchaseOrder)
    assert ChangeLogEntry.objects.filter(content_type=order_type).exists()
    client.force_login(accounts["engineer"])  # parts and stock, no purchasing
    rows = _rows(client)
    assert rows
    assert not ChangeLogEntry.objects.filter(pk__in=rows, content_type=order_type).exists()
    # naming the model in the URL does not get around it
    assert (
        _rows(client, f"model={order_type.pk}") == []
        or not ChangeLogEntry.objects.filter(
            pk__in=_rows(client, f"model={order_type.pk}"), content_type=order_type
        ).exists()
    )
    assert (
        _rows(client, "q=PO-") == []
        or not ChangeLogEntry.objects.filter(
            pk__in=_rows(client, "q=PO-"), content_type=order_type
        ).exists()
    )
    client.force_login(accounts["reader"])
    assert ChangeLogEntry.objects.filter(pk__in=_rows(client), content_type=order_type).exists()


@pytest.mark.parametrize("username", ["admin", "allaccess", "reader", "engineer"])
def test_nobody_may_change_or_delete_the_log(client, accounts, some_history, username):
    client.force_login(accounts[username])
    entry = ChangeLogEntry.objects.first()
    before = list(ChangeLogEntry.objects.values_list("pk", "reason", "object_repr"))
    for url in (
        reverse("admin:admin_customisations_changelogentry_change", args=[entry.pk]),
        reverse("admin:admin_customisations_changelogentry_delete", args=[entry.pk]),
    ):
        response = client.post(url, {"reason": "forged", "post": "yes"})
        assert response.status_code == 403
    response = client.post(URL, {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert response.status_code in (200, 302, 403)
    assert list(ChangeLogEntry.objects.values_list("pk", "reason", "object_repr")) == before
    assert client.get(reverse("admin:admin_customisations_changelogentry_add")).status_code == 403


def test_anonymous_and_non_staff_are_refused(client, some_history):
    assert client.get(URL).status_code == 302  # to the login page
    nobody = User.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(URL).status_code in (302, 403)


def test_query_count_does_not_grow_with_history(admin_client_root, superuser):
    def render():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client_root.get(URL).status_code == 200
        return len(queries)

    items = [factories.StockItemFactory() for _ in range(30)]
    for item in items:
        stock_item_change_status(item=item, status=StockStatus.DAMAGED, user=superuser)
    small = render()
    for item in items + [factories.StockItemFactory() for _ in range(60)]:
        stock_item_change_status(item=item, status=StockStatus.ATTENTION, user=superuser)
    assert ChangeLogEntry.objects.count() > 200
    assert render() == small


def test_export_of_the_filtered_log(admin_client_root, superuser, some_history):
    part_type = ContentType.objects.get_for_model(StockItem)
    filters = f"model={part_type.pk}"
    url = (
        reverse("admin:admin_customisations_changelogentry_export")
        + f"?_changelist_filters={filters}"
    )
    form = admin_client_root.get(url)
    assert form.status_code == 200
    headers = ["Date", "User", "Model", "Object", "Object id", "Change", "Reason", "Changes"]
    response = admin_client_root.post(url, {"format": "csv", "columns": headers})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows and {row["Model"] for row in rows} == {"Stock item"}
    assert any(row["Changes"] == "Status: OK → Damaged" for row in rows)
    assert len(rows) == ChangeLogEntry.objects.filter(content_type=part_type).count()


def test_the_log_offers_no_import(admin_client_root, some_history):
    response = admin_client_root.get(reverse("admin:admin_customisations_changelogentry_import"))
    assert response.status_code == 403


def test_sync_change_log_command(superuser):
    from django.core.management import call_command

    factories.PartFactory(name="Unlogged")
    ChangeLogEntry.objects.all().delete()
    out = io.StringIO()
    call_command("sync_change_log", stdout=out)
    assert "change log entries added" in out.getvalue()
    assert_every_record_is_logged()


def test_deletions_link_to_restore_for_those_who_may(client, accounts):
    from admin_customisations.history.undelete import undelete_url
    from inventory.models import PartCategory
    from inventory.services.common import delete_with_history

    category = factories.PartCategoryFactory(name="Obsolete bin")
    pk = category.pk
    delete_with_history(category, user=accounts["admin"], reason="Tidy up")
    url = undelete_url(PartCategory, pk)
    client.force_login(accounts["admin"])
    assert url in client.get(f"{URL}?q=Obsolete").content.decode()
    client.force_login(accounts["reader"])
    text = client.get(f"{URL}?q=Obsolete").content.decode()
    assert "Obsolete bin" in text and url not in text


@pytest.mark.parametrize("rare_matches", [5000, 1])  # the rare-term and the common-term path
def test_word_search_in_reason_and_name(
    admin_client_root, superuser, some_history, monkeypatch, rare_matches
):
    from admin_customisations.history import search

    monkeypatch.setattr(search, "RARE_MATCHES", rare_matches)
    for n in range(3):
        part = factories.PartFactory(name=f"Spacer nylon {n}")
        part.description = "x"
        save_with_history(part, user=superuser, reason=f"Status changed (job #{40 + n})")
    everything = ChangeLogEntry.objects.all()
    found = _rows(admin_client_root, "reason__icontains=job+41")
    assert [everything.get(pk=pk).reason for pk in found] == ["Status changed (job #41)"]
    found = _rows(admin_client_root, "q=spacer+nylon")
    assert found and all("Spacer nylon" in everything.get(pk=pk).object_repr for pk in found)
    assert _rows(admin_client_root, "q=zzzunknown") == []
    # quotes and query syntax in the term are words, never operators
    assert _rows(admin_client_root, 'q="spacer*+OR+NEAR(') == _rows(
        admin_client_root, "q=spacer+or+near"
    )
