"""Attribution everywhere: every historical record of every tracked model has a user (a
person or a named system actor) and a non-empty reason, whatever wrote it — the demo load,
an import, a bulk job, the services, an admin form, a scheduled task, a management command.

Each scenario runs on the demo dataset (loaded once for the module) and checks every
history table for records written since it started (``since``/``unattributed``).
"""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import transaction

from fixtures.accounts import ensure_demo_accounts
from fixtures.demo.load import load_demo_data
from inventory.services.actors import (
    acting_as,
    forget_system_users,
    is_system_user,
    system_user,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the sweep


def tracked_models() -> list:
    """Every model with a simple-history table (ours, and any library model registered)."""
    from admin_customisations.history.changelog import tracked_models as every_tracked_model

    return every_tracked_model()


def since() -> dict:
    """The newest history id of every tracked model (records after it are new)."""
    marks = {}
    for model in tracked_models():
        last = model.history.order_by("-history_id").values_list("history_id", flat=True).first()
        marks[model] = last or 0
    return marks


def unattributed(marks=None) -> list[str]:
    """The history records (after ``marks``) without a user or without a reason."""
    bad = []
    for model in tracked_models():
        records = model.history.filter(history_id__gt=(marks or {}).get(model, 0))
        for history_id, kind, user_id, reason in records.values_list(
            "history_id", "history_type", "history_user_id", "history_change_reason"
        ):
            text = (reason or "").strip()
            if user_id is None or not text or text == "None":
                bad.append(
                    f"{model._meta.label} history #{history_id} ({kind}): "
                    f"user={user_id} reason={reason!r}"
                )
    return bad


def unlogged(marks=None) -> list[str]:
    """The history records (after ``marks``) whose change log entry is missing or says
    another user or reason."""
    from django.contrib.contenttypes.models import ContentType

    from admin_customisations.history.models import ChangeLogEntry

    bad = []
    for model in tracked_models():
        records = model.history.filter(history_id__gt=(marks or {}).get(model, 0))
        wanted = {
            row[0]: row
            for row in records.values_list("history_id", "history_user_id", "history_change_reason")
        }
        logged = {
            row[0]: row
            for row in ChangeLogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), history_id__in=list(wanted)
            ).values_list("history_id", "user_id", "reason")
        }
        for history_id, row in wanted.items():
            if logged.get(history_id) != (row[0], row[1], (row[2] or "")[:255]):
                bad.append(
                    f"{model._meta.label} history #{history_id}: log {logged.get(history_id)}"
                )
    return bad


def assert_attributed(marks=None) -> None:
    missing = unlogged(marks)
    assert not missing, f"{len(missing)} history records not in the change log:\n" + "\n".join(
        missing[:50]
    )
    bad = unattributed(marks)
    assert not bad, f"{len(bad)} history records without user or reason:\n" + "\n".join(bad[:50])


def written(marks) -> int:
    return sum(model.history.filter(history_id__gt=marks[model]).count() for model in marks)


@pytest.fixture(scope="module")
def _demo_loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module inside a transaction rolled back at the end;
    the history it wrote is checked right here (nothing else has written yet)."""
    with django_db_blocker.unblock(), transaction.atomic():
        forget_system_users()
        ensure_demo_accounts()
        assert load_demo_data() is True
        problems = unattributed()
        yield problems
        transaction.set_rollback(True)
    forget_system_users()


@pytest.fixture
def demo(_demo_loaded, db):
    return {u.username: u for u in User.objects.all()}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_every_tracked_model_is_swept():
    labels = {model._meta.label for model in tracked_models()}
    assert {
        "inventory.Part",
        "inventory.StockItem",
        "inventory.StockItemTracking",
        "builds.BuildOrder",
        "orders.SalesOrder",
        "admin_customisations.BackgroundJob",
        "admin_customisations.GroupRole",
    } <= labels
    assert len(labels) >= 25


# ---------------------------------------------------------------- (a) the demo load


def test_the_demo_load_attributes_every_record(_demo_loaded, demo):
    assert _demo_loaded == []
    from inventory.models import Part

    assert Part.history.count() > 100  # the sweep saw the demo's history
    roles = demo["allaccess"].groups.get().roles.first().history.first()
    assert roles.history_user.username == "[demo]" and roles.history_change_reason


# ---------------------------------------------------------------- (b) an import


def export_csv(name: str, *, change: str | None = None, limit: int = 30) -> str:
    """The resource's export of the demo data as CSV (first ``limit`` rows), with
    ``change`` edited in every row (so the import updates them)."""
    from admin_customisations.importing.resource import resource_for

    resource = resource_for(name)
    headers = resource.headers()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for n, row in enumerate(resource.export_rows(resource.queryset())):
        if n >= limit:
            break
        row = ["" if value is None else value for value in row]
        if change:
            at = headers.index(change)
            row[at] = f"{row[at]} (imported)".strip()[:200]
        writer.writerow(row)
    return out.getvalue()


IMPORT_UPDATES = {
    "categories": "Description",
    "locations": "Description",
    "parts": "Description",
    "stock_items": "Notes",
    "companies": "Description",
    "contacts": "Role",
    "supplier_parts": "Description",
}


def test_imports_attribute_every_record(demo):
    from admin_customisations.models import ImportRun
    from tests.importing.engine_support import csv_text, import_file, messages

    user = demo["admin"]
    marks = since()
    for name, column in IMPORT_UPDATES.items():
        run = import_file(user, name, export_csv(name, change=column), filename=f"{name}.csv")
        assert run.status == ImportRun.Status.COMMITTED, (name, messages(run))
        assert run.updated_count + run.new_count > 0, name
    new_parts = csv_text(
        ["IPN", "Name", "Category"],
        [[f"SWEEP-{i}", f"Sweep part {i}", "Electronics/Passives/Resistors"] for i in range(3)],
    )
    run = import_file(user, "parts", new_parts, filename="parts.csv")
    assert run.status == ImportRun.Status.COMMITTED and run.new_count == 3, messages(run)
    stock = csv_text(["Part", "Location", "Quantity"], [["SWEEP-0", "", "5"], ["SWEEP-1", "", "7"]])
    run = import_file(user, "stock_items", stock, filename="stock.csv")
    assert run.status == ImportRun.Status.COMMITTED, messages(run)
    assert written(marks) > 100
    assert_attributed(marks)
    from inventory.models import Part

    record = Part.history.filter(ipn="SWEEP-0").get()
    assert record.history_user == user
    assert record.history_change_reason == f"Imported from parts.csv (import #{run.pk - 1})"


# ---------------------------------------------------------------- (c) a bulk job


def test_a_bulk_job_attributes_every_record(demo, client, settings):
    from admin_customisations.jobs import runner
    from admin_customisations.models import BackgroundJob
    from inventory.choices import StockStatus
    from inventory.models import StockItem

    settings.BULK_JOB_THRESHOLD = 3
    settings.BULK_JOB_CHUNK_SIZE = 4
    user = demo["admin"]
    client.force_login(user)
    items = list(StockItem.objects.in_stock().filter(status=StockStatus.OK).order_by("pk")[:10])
    marks = since()
    response = client.post(
        "/admin/inventory/stockitem/",
        {
            "action": "change_status",
            ACTION_CHECKBOX_NAME: [str(i.pk) for i in items],
            "index": "0",
            "select_across": "0",
            "apply": "1",
            "status": str(int(StockStatus.ATTENTION)),
            "notes": "sweep",
        },
    )
    assert response.status_code == 302
    job = BackgroundJob.objects.latest("pk")
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    assert_attributed(marks)
    record = items[0].history.order_by("-history_id").first()
    assert record.history_user == user and record.history_change_reason.endswith(f"(job #{job.pk})")
    assert job.history.get().history_change_reason == "Started from the stock items list"


# ---------------------------------------------------------------- (d) the services


def test_the_services_attribute_every_record(demo):
    """The service calls the demo does not make, each with a person."""
    from builds.services.bom import (
        bom_copy,
        bom_item_create,
        bom_item_delete,
        bom_item_update,
        bom_substitute_add,
        bom_substitute_remove,
        bom_validate,
    )
    from builds.services.build import (
        build_order_cancel,
        build_order_complete,
        build_order_create,
        build_order_delete,
        build_order_issue,
    )
    from builds.services.build_outputs import build_output_complete, build_output_create
    from inventory.choices import StockStatus
    from inventory.models import Part, PartCategory, StockItem, StockLocation
    from inventory.services.parts import part_category_delete, part_update
    from inventory.services.stock import (
        stock_item_add,
        stock_item_assign_to_customer,
        stock_item_change_status,
        stock_item_count,
        stock_item_create,
        stock_item_delete,
        stock_item_move,
        stock_item_remove,
        stock_item_return_from_customer,
        stock_item_serialize,
        stock_item_split,
        stock_items_merge,
        stock_location_delete,
        stock_location_move_items,
    )
    from inventory.services.stock_bulk import stock_items_change_status, stock_items_move
    from inventory.services.stock_edits import stock_item_update
    from orders.models import Address, Company, SupplierPart
    from orders.services.companies import (
        address_delete,
        address_save,
        address_set_primary,
        supplier_part_save,
    )
    from orders.services.purchase import (
        purchase_order_add_line,
        purchase_order_create,
        purchase_order_place,
        purchase_order_receive_line,
    )
    from orders.services.returns import (
        return_order_add_line,
        return_order_create,
        return_order_issue,
        return_order_receive_line,
    )
    from orders.services.sales import (
        sales_order_add_extra_line,
        sales_order_add_line,
        sales_order_allocate,
        sales_order_create,
        sales_order_issue,
        shipment_complete,
        shipment_create,
    )

    user = demo["admin"]
    # set-up rows (written before the sweep's mark, so not part of it)
    category = PartCategory.objects.create(name="Sweep category")
    doomed = PartCategory.objects.create(name="Sweep doomed", parent=category)
    here = StockLocation.objects.create(name="Sweep A")
    there = StockLocation.objects.create(name="Sweep B")
    part = Part.objects.create(ipn="SW-1", name="Sweep part", category=doomed, salable=True)
    serialised = Part.objects.create(ipn="SW-2", name="Sweep tracked", trackable=True)
    assembly = Part.objects.create(ipn="SW-3", name="Sweep assembly", assembly=True)
    assembly2 = Part.objects.create(ipn="SW-4", name="Sweep assembly 2", assembly=True)
    customer = Company.objects.filter(is_customer=True).first()
    supplier = Company.objects.filter(is_supplier=True).first()
    marks = since()

    # stock
    item = stock_item_create(part=part, quantity=100, location=here, user=user)[0]
    stock_item_add(item=item, quantity=5, user=user)
    stock_item_remove(item=item, quantity=2, user=user)
    stock_item_count(item=item, quantity=90, user=user)
    piece = stock_item_split(item=item, quantity=10, location=there, user=user)
    stock_item_move(item=piece, location=here, user=user)
    item = stock_items_merge(items=[item, piece], user=user)
    stock_item_change_status(item=item, status=StockStatus.ATTENTION, user=user)
    stock_item_change_status(item=item, status=StockStatus.OK, user=user)
    stock_item_update(item=item, user=user, notes="Counted twice")
    sent = stock_item_assign_to_customer(item=item, customer=customer, quantity=5, user=user)
    stock_item_return_from_customer(item=sent, location=here, user=user)
    bulk = stock_item_create(part=part, quantity=3, location=there, user=user)
    bulk += stock_item_create(part=part, quantity=4, location=there, user=user)
    stock_items_change_status(items=bulk, status=StockStatus.DAMAGED, user=user)
    stock_items_move(
        items=StockItem.objects.filter(pk__in=[i.pk for i in bulk]), location=here, user=user
    )
    stock_location_move_items(location=here, destination=there, user=user)
    stock_item_delete(item=StockItem.objects.get(pk=bulk[0].pk), user=user)
    stock_location_delete(location=here, user=user)
    untracked = stock_item_create(part=serialised, quantity=3, location=there, user=user)[0]
    stock_item_serialize(item=untracked, quantity=2, serials="901-902", user=user)
    part_update(part=part, user=user, reason="Minimum stock raised", minimum_stock=Decimal(7))
    part_category_delete(category=doomed, user=user)

    # BOMs and builds
    line = bom_item_create(part=assembly, sub_part=part, quantity=2, user=user)
    bom_item_update(bom_item=line, user=user, quantity=Decimal(3))
    substitute = bom_substitute_add(bom_item=line, part=serialised, user=user)
    bom_copy(source=assembly, target=assembly2, user=user)
    bom_substitute_remove(substitute=substitute, user=user)
    bom_validate(part=assembly, user=user)
    build = build_order_create(part=assembly, quantity=2, user=user, destination=there)
    build_order_issue(build=build, user=user)
    output = build_output_create(build=build, quantity=1, user=user)[0]
    build_output_complete(
        build=build, output=output, user=user, location=there, accept_unallocated=True
    )
    build_order_complete(build=build, user=user, accept_incomplete=True, accept_unallocated=True)
    other = build_order_create(part=assembly, quantity=1, user=user)
    build_order_cancel(build=other, user=user)
    build_order_delete(build=other, user=user)
    line.refresh_from_db()
    bom_item_delete(bom_item=line, user=user)

    # companies and orders
    address = address_save(
        address=Address(company=customer, title="Sweep dock", line1="1 Quay"), user=user
    )
    address_set_primary(address=address, user=user)
    address_delete(address=address, user=user)
    supplier_part = supplier_part_save(
        supplier_part=SupplierPart(part=part, supplier=supplier, sku="SWEEP-SKU"), user=user
    )
    po = purchase_order_create(supplier=supplier, user=user)
    po_line = purchase_order_add_line(order=po, supplier_part=supplier_part, quantity=4, user=user)
    purchase_order_place(order=po, user=user)
    purchase_order_receive_line(line=po_line, quantity=4, location=there, user=user)
    so = sales_order_create(customer=customer, user=user)
    so_line = sales_order_add_line(order=so, part=part, quantity=2, user=user)
    sales_order_add_extra_line(order=so, description="Freight", price=5, user=user)
    sales_order_issue(order=so, user=user)
    stock = StockItem.objects.in_stock().filter(part=part, quantity__gte=2).first()
    shipment = shipment_create(order=so, user=user)
    sales_order_allocate(line=so_line, item=stock, quantity=2, shipment=shipment, user=user)
    shipment_complete(shipment=shipment, user=user)
    rma = return_order_create(customer=customer, user=user)
    shipped = StockItem.objects.filter(sales_order=so).first()
    rma_line = return_order_add_line(order=rma, item=shipped, user=user)
    return_order_issue(order=rma, user=user)
    return_order_receive_line(line=rma_line, location=there, user=user)

    assert written(marks) > 80
    assert_attributed(marks)


def test_a_service_called_without_a_person_inside_acting_as_gets_the_actor(demo):
    from inventory.models import Part, StockLocation
    from inventory.services.stock import stock_item_create

    part = Part.objects.create(ipn="SW-9", name="Scheduled part")
    location = StockLocation.objects.create(name="Sweep C")
    marks = since()
    with acting_as("scheduler", reason="Scheduled task: sweep"):
        item = stock_item_create(part=part, quantity=1, location=location, user=None)[0]
    assert_attributed(marks)
    record = item.history.get()
    assert record.history_user.username == "[scheduler]"
    assert record.history_change_reason == "Stock created"  # the service's own reason wins
    tracking = item.tracking.get().history.get()
    assert (tracking.history_user.username, tracking.history_change_reason) == (
        "[scheduler]",
        "Stock item created",
    )


# ---------------------------------------------------------------- admin forms


def test_admin_delete_selected_and_group_roles_are_attributed(demo, client):
    from inventory.models import PartParameterTemplate

    user = demo["admin"]
    client.force_login(user)
    templates = [PartParameterTemplate.objects.create(name=f"Sweep {i}") for i in range(2)]
    marks = since()
    response = client.post(
        "/admin/inventory/partparametertemplate/",
        {
            "action": "delete_selected",
            ACTION_CHECKBOX_NAME: [str(t.pk) for t in templates],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not PartParameterTemplate.objects.filter(pk__in=[t.pk for t in templates]).exists()
    from admin_customisations.roles import set_group_roles

    group = Group.objects.create(name="sweepers")
    set_group_roles(group, {"stock": ("view", "change")}, user=user)
    set_group_roles(group, {"stock": ("view",), "part": ("view",)}, user=user)
    set_group_roles(group, {"part": ("view",)}, user=user)
    assert_attributed(marks)
    deleted = PartParameterTemplate.history.filter(history_type="-").latest("history_id")
    assert deleted.history_user == user
    assert deleted.history_change_reason == "Deleted in the admin (delete selected)"


# ---------------------------------------------------------------- (e) tasks and commands


def test_scheduled_tasks_and_management_commands_attribute_every_record(demo, settings):
    from datetime import timedelta

    from django.utils import timezone

    from admin_customisations.jobs.tasks import reap_jobs
    from admin_customisations.models import BackgroundJob
    from admin_customisations.tasks import health_check

    settings.BULK_JOB_STALE_SECONDS = 1
    stale = BackgroundJob.objects.create(
        name="Stale", task_name="stockroom.run_bulk_job", status="running", attempts=9
    )
    BackgroundJob.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - timedelta(1))
    marks = since()
    assert reap_jobs()["failed"] == [stale.pk]
    assert health_check()["status"] == "ok"
    out = io.StringIO()
    for command in ("sync_roles", "sync_schedules", "load_demo"):
        call_command(command, stdout=out)
    call_command(
        "generate_data", parts=120, stock_items=400, orders=10, seed=7, batch_size=50, stdout=out
    )
    assert written(marks) > 40
    assert_attributed(marks)
    from inventory.models import StockItem

    generated = StockItem.history.filter(history_id__gt=marks[StockItem]).first()
    assert generated.history_user.username == "[generator]"
    assert generated.history_change_reason == "Generated test data"


# ---------------------------------------------------------------- pickers of people


def test_system_actors_are_not_offered_as_people(demo, client, rf):
    from django.contrib import admin

    from orders.models import SalesOrder

    system_user("scheduler")
    request = rf.get("/")
    request.user = demo["admin"]
    field = SalesOrder._meta.get_field("responsible_user")
    formfield = admin.site._registry[SalesOrder].formfield_for_foreignkey(field, request)
    offered = set(formfield.queryset.values_list("username", flat=True))
    assert "admin" in offered and not any(is_system_user(u) for u in formfield.queryset)
    client.force_login(demo["admin"])
    query = {"app_label": "orders", "model_name": "salesordershipment", "field_name": "checked_by"}
    response = client.get("/admin/autocomplete/", {**query, "term": "["})
    assert response.status_code == 200 and response.json()["results"] == []
    response = client.get("/admin/autocomplete/", {**query, "term": "admin"})
    assert [r["text"] for r in response.json()["results"]] == ["admin"]
