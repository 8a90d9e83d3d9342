"""References of purchase, sales, return and build orders under concurrency.

One allocator (inventory/services/references.py) serialises reference allocation per model.
The 50-way races need PostgreSQL (SQLite's IMMEDIATE transactions serialise writers
anyway); the fallback retry, typed references and the admin's handling of a refusal at
save time run everywhere.
"""

import threading

import pytest
from django import db
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from builds.models import BuildOrder
from builds.services.build import build_order_create
from inventory.services import references
from orders.models import PurchaseOrder, ReturnOrder, SalesOrder
from orders.services.purchase import purchase_order_create
from orders.services.returns import return_order_create
from orders.services.sales import sales_order_create
from tests import factories
from tests.services import require_postgres

THREADS = 50
PER_THREAD = 2


def _kinds():
    """(model, prefix, create()) for every numbered order model."""
    user = factories.UserFactory()
    supplier = factories.SupplierFactory(name="Mouser")
    customer = factories.CompanyFactory(name="ACME Retail", is_customer=True)
    widget = factories.PartFactory(name="Widget", assembly=True)
    factories.BomItemFactory(part=widget, quantity=2)
    return {
        "purchase": (
            PurchaseOrder,
            "PO-",
            lambda: purchase_order_create(supplier=supplier, user=user),
        ),
        "sales": (SalesOrder, "SO-", lambda: sales_order_create(customer=customer, user=user)),
        "return": (ReturnOrder, "RMA-", lambda: return_order_create(customer=customer, user=user)),
        "build": (
            BuildOrder,
            "BO-",
            lambda: build_order_create(part=widget, quantity=1, user=user),
        ),
    }


def run_together(count, target):
    """Run ``target`` in ``count`` threads (each its own connection), released together."""
    start = threading.Barrier(count, timeout=30)
    failures = []

    def run():
        try:
            start.wait()
            target()
        except BaseException as exc:  # reported in the test thread
            failures.append(exc)
        finally:
            db.connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=45)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return failures


# ------------------------------------------------------------------ PostgreSQL races


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["purchase", "sales", "return", "build"])
def test_fifty_concurrent_creations_get_distinct_contiguous_references(kind):
    require_postgres()
    model, prefix, create = _kinds()[kind]

    def create_some():
        for _ in range(PER_THREAD):
            create()

    failures = run_together(THREADS, create_some)
    assert failures == []
    rows = list(model.objects.order_by("reference_int").values_list("reference", "reference_int"))
    total = THREADS * PER_THREAD
    assert [number for _, number in rows] == list(range(1, total + 1))
    assert [reference for reference, _ in rows] == [f"{prefix}{n:04d}" for n in range(1, total + 1)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_typed_reference_one_wins_the_others_get_a_field_error():
    require_postgres()
    supplier = factories.SupplierFactory(name="Mouser")
    user = factories.UserFactory()
    refusals = []

    def create_po_0100():
        try:
            purchase_order_create(supplier=supplier, user=user, reference="PO-0100")
        except ValidationError as error:
            refusals.append(error.message_dict)

    assert run_together(10, create_po_0100) == []
    assert list(PurchaseOrder.objects.values_list("reference", flat=True)) == ["PO-0100"]
    assert refusals == [{"reference": ["Purchase order PO-0100 already exists."]}] * 9


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_admin_adds_all_succeed_over_http():
    require_postgres()
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    supplier = factories.SupplierFactory(name="Mouser")
    url = reverse("admin:orders_purchaseorder_add")
    data = {
        "reference": "",
        "supplier": supplier.pk,
        "currency": "",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        "extra_lines-TOTAL_FORMS": "0",
        "extra_lines-INITIAL_FORMS": "0",
    }
    clients = []
    for _ in range(20):
        client = Client()
        client.force_login(root)
        clients.append(client)
    statuses = []
    lock = threading.Lock()

    def add():
        with lock:
            client = clients.pop()
        statuses.append(client.post(url, data).status_code)

    assert run_together(20, add) == []
    assert statuses == [302] * 20
    numbers = sorted(PurchaseOrder.objects.values_list("reference_int", flat=True))
    assert numbers == list(range(1, 21))


# ------------------------------------------------------------------ everywhere (SQLite too)


@pytest.mark.django_db
def test_every_numbered_model_has_its_own_stable_lock_key():
    keys = {references.lock_key(m) for m in (PurchaseOrder, SalesOrder, ReturnOrder, BuildOrder)}
    assert len(keys) == 4
    assert references.lock_key(PurchaseOrder) == references.lock_key(PurchaseOrder)
    assert all(-(2**63) <= key < 2**63 for key in keys)


@pytest.mark.django_db
def test_the_lock_needs_a_transaction(monkeypatch):
    references.lock_references(PurchaseOrder)  # the test's transaction
    monkeypatch.setattr(db.connections["default"], "in_atomic_block", False)  # as in autocommit
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        references.lock_references(PurchaseOrder)


def _competing_insert(monkeypatch, after, call, make_competitor):
    """Right after the allocator's ``call``-th call of ``after`` picked a reference, a
    competing row takes it, as an import running without the reference lock would: our
    insert then hits the unique constraint."""
    real = getattr(references, after)
    calls = []

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == call:
            make_competitor(result[0])
        return result

    monkeypatch.setattr(references, after, wrapper)


@pytest.mark.django_db
def test_an_automatic_reference_taken_meanwhile_is_retried_with_the_next(monkeypatch):
    supplier = factories.SupplierFactory(name="Mouser")
    user = factories.UserFactory()
    _competing_insert(
        monkeypatch,
        "next_reference",
        1,
        lambda ref: PurchaseOrder.objects.create(reference=ref, supplier=supplier),
    )
    order = purchase_order_create(supplier=supplier, user=user)
    assert (order.reference, order.reference_int) == ("PO-0002", 2)
    assert PurchaseOrder.objects.count() == 2
    assert order.history.first().history_change_reason == "Created"


@pytest.mark.django_db
def test_a_typed_reference_taken_meanwhile_is_a_field_error(monkeypatch):
    supplier = factories.SupplierFactory(name="Mouser")
    user = factories.UserFactory()
    _competing_insert(
        monkeypatch,
        "check_reference",  # 1: the format, before the lock; 2: under the lock
        2,
        lambda ref: PurchaseOrder.objects.create(reference=ref, supplier=supplier),
    )
    with pytest.raises(ValidationError) as info:
        purchase_order_create(supplier=supplier, user=user, reference="PO-0100")
    assert info.value.message_dict == {"reference": ["Purchase order PO-0100 already exists."]}


@pytest.mark.django_db
def test_a_typed_reference_in_use_is_refused_before_saving():
    customer = factories.CompanyFactory(name="ACME Retail", is_customer=True)
    user = factories.UserFactory()
    sales_order_create(customer=customer, user=user, reference="SO-0007")
    with pytest.raises(ValidationError) as info:
        sales_order_create(customer=customer, user=user, reference="SO-0007")
    assert info.value.message_dict == {"reference": ["Sales order SO-0007 already exists."]}
    # the number does not have to follow the last one; the next automatic one continues
    assert sales_order_create(customer=customer, user=user).reference == "SO-0008"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["PO-7", "PO-00007", "SO-0007", "PO-0007x"])
def test_a_typed_reference_must_be_exactly_what_the_pattern_makes(typed):
    supplier = factories.SupplierFactory(name="Mouser")
    with pytest.raises(ValidationError, match="does not match the pattern"):
        purchase_order_create(supplier=supplier, user=None, reference=typed)
    assert not PurchaseOrder.objects.exists()


@pytest.mark.django_db
def test_a_pattern_with_digits_numbers_by_the_ref_field(settings):
    settings.RETURN_ORDER_REFERENCE_PATTERN = "R2-{ref:03d}"
    customer = factories.CompanyFactory(name="ACME Retail", is_customer=True)
    first = return_order_create(customer=customer, user=None)
    second = return_order_create(customer=customer, user=None)
    assert [(o.reference, o.reference_int) for o in (first, second)] == [
        ("R2-001", 1),
        ("R2-002", 2),
    ]


# ------------------------------------------------------------------ admin: no 500 at save time


def _page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_admin_add_whose_typed_reference_is_taken_at_save_time_shows_the_error(
    admin_client_root, monkeypatch
):
    """The form saw PO-0100 free; another user took it before our save: a form error on
    the reference field (status 200), not a server error; nothing of ours was saved."""
    supplier = factories.SupplierFactory(name="Mouser")
    _competing_insert(
        monkeypatch,
        "check_reference",  # 1: the format, before the lock; 2: under the lock
        2,
        lambda ref: PurchaseOrder.objects.create(reference=ref, supplier=supplier),
    )
    response = admin_client_root.post(
        reverse("admin:orders_purchaseorder_add"),
        {
            "reference": "PO-0100",
            "supplier": supplier.pk,
            "currency": "",
            "description": "Resistors",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
            "extra_lines-TOTAL_FORMS": "0",
            "extra_lines-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Purchase order PO-0100 already exists." in response.content.decode()
    assert response.context_data["adminform"].form.errors["reference"] == [
        "Purchase order PO-0100 already exists."
    ]
    # the competitor's row was rolled back with our attempt; nothing was created
    assert not PurchaseOrder.objects.exists()


@pytest.mark.django_db
def test_build_admin_add_refused_at_save_time_shows_the_error(admin_client_root, monkeypatch):
    """The form's dry run passes; the real call in save_model is refused."""
    from builds.admin import build as build_admin

    widget = factories.PartFactory(name="Widget", assembly=True)
    factories.BomItemFactory(part=widget, quantity=2)
    calls = []
    real = build_admin.build_order_create

    def refused_the_second_time(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ValidationError({"part": "Widget was made inactive meanwhile."})
        return real(**kwargs)

    monkeypatch.setattr(build_admin, "build_order_create", refused_the_second_time)
    response = admin_client_root.post(
        reverse("admin:builds_buildorder_add"),
        {"part": widget.pk, "quantity": "3", "reference": ""},
    )
    assert response.status_code == 200
    assert response.context_data["adminform"].form.errors["part"] == [
        "Widget was made inactive meanwhile."
    ]
    assert not BuildOrder.objects.exists()


@pytest.mark.django_db
def test_build_admin_delete_refused_at_save_time_shows_the_message(admin_client_root, monkeypatch):
    from builds.admin import build as build_admin

    widget = factories.PartFactory(name="Widget", assembly=True)
    build = build_order_create(part=widget, quantity=1, user=None)

    def refuse(**kwargs):
        raise ValidationError(f"{build.reference} used stock: it cannot be deleted.")

    monkeypatch.setattr(build_admin, "build_order_delete", refuse)
    response = admin_client_root.post(
        reverse("admin:builds_buildorder_delete", args=[build.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:builds_buildorder_change", args=[build.pk])
    assert _page_messages(response) == [f"{build.reference} used stock: it cannot be deleted."]
    assert BuildOrder.objects.filter(pk=build.pk).exists()


@pytest.mark.django_db
def test_delete_selected_refused_for_one_order_deletes_none(admin_client_root, monkeypatch):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from orders.admin import sales as sales_admin

    customer = factories.CompanyFactory(name="ACME Retail", is_customer=True)
    first = sales_order_create(customer=customer, user=None)
    second = sales_order_create(customer=customer, user=None)
    real = sales_admin.services.sales_order_delete

    def refuse_the_second(*, order, user):
        if order.pk == second.pk:
            raise ValidationError(f"{order.reference} has shipments: it cannot be deleted.")
        return real(order=order, user=user)

    monkeypatch.setattr(sales_admin.services, "sales_order_delete", refuse_the_second)
    response = admin_client_root.post(
        "/admin/orders/salesorder/",
        {
            "action": "delete_selected",
            ACTION_CHECKBOX_NAME: [str(first.pk), str(second.pk)],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert f"{second.reference} has shipments: it cannot be deleted." in _page_messages(response)
    assert SalesOrder.objects.count() == 2
