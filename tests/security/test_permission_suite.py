"""The permission suite over HTTP: every admin URL, every demo account, every action.

For each registered ModelAdmin (taken from ``admin.site._registry``) and each of its URL
patterns (taken from its ``get_urls()``: changelist, add, change, delete, history, history
version, object permissions, import, export, unfold actions and custom pages) this suite
requests the page as each demo account, GET and a forged POST, and checks the answer against
the documented rights (docs/permissions.md, computed by
``admin_customisations.permission_table.permission_matrix`` from the role table) plus the
object rules: stock ownership and responsible party are switched on, and the suite's
location, stock item, orders and build belong to somebody else, so ``allaccess`` may view
them but not change them. Object permissions may be administered only by superusers and
the Administration role with change (docs/security.md).

A forbidden request must answer 403 (a forbidden changelist action: refused with a message)
and a forbidden POST must change nothing in the database (``admin_urls.snapshot``).

A URL pattern the suite cannot classify, or a registered admin without a test object, fails
the suite: add an expectation to ``tests/security/admin_urls.py``.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from guardian.shortcuts import assign_perm

from admin_customisations.permission_table import DEMO_USERS, permission_matrix
from admin_customisations.permissions import ADMINISTER_PERMISSIONS
from fixtures.accounts import ensure_demo_accounts
from tests.admin_cases import ADMIN_CASES
from tests.security.admin_urls import (
    OBJECT_KINDS,
    OBJECT_MANAGE_RULES,
    OBJECT_VIEW_RULES,
    THIRD_PARTY_OBJECTS,
    admin_for,
    classify_urls,
    export_expected,
    import_expected,
    import_run_for,
    registered_labels,
    snapshot,
)

RESPONSIBLE_MODELS = (
    "builds.buildorder",
    "orders.purchaseorder",
    "orders.salesorder",
    "orders.returnorder",
)


@dataclass
class World:
    users: dict
    objects: dict
    restricted: set
    matrix: dict
    history_ids: dict
    import_runs: dict  # label -> an import run of `suite-owner` on that admin


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Demo accounts and one object per admin, made once for the module and rolled back after."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build_world() -> World:
    ensure_demo_accounts()
    users = {name: User.objects.get(username=name) for name in DEMO_USERS}
    owner = User.objects.create_user("suite-owner", password="x-unused-9", is_staff=True)
    objects = {}
    for label in registered_labels():
        if label in ADMIN_CASES:
            objects[label] = ADMIN_CASES[label].make()
        elif label in THIRD_PARTY_OBJECTS:
            objects[label] = THIRD_PARTY_OBJECTS[label]()
    restricted = set()
    # Ownership: the suite's location and the stock item's location belong to `owner`.
    location = objects["inventory.stocklocation"]
    assign_perm("inventory.change_stocklocation", owner, location)
    item = objects["inventory.stockitem"]
    assign_perm("inventory.change_stocklocation", owner, item.location)
    restricted |= {"inventory.stocklocation", "inventory.stockitem"}
    # Responsibility: orders and the build are `owner`'s.
    for label in RESPONSIBLE_MODELS:
        obj = objects[label]
        obj.responsible_user = owner
        obj._change_reason = "permission suite: responsible party"
        obj.save()
        restricted.add(label)
    history_ids = {}
    for label, obj in objects.items():
        history = getattr(obj, "history", None)
        if history is not None:
            latest = history.order_by("-history_id").first()
            history_ids[label] = latest.history_id if latest else None
    import_runs = {label: import_run_for(admin_for(label), owner) for label in objects}
    return World(
        users=users,
        objects=objects,
        restricted=restricted,
        matrix=permission_matrix(list(users.values())),
        history_ids=history_ids,
        import_runs=import_runs,
    )


@pytest.fixture(autouse=True)
def _object_rules_on(settings):
    settings.STOCK_OWNERSHIP_CONTROL = True
    settings.ORDERS_RESPONSIBLE_ONLY = True


def _may_administer(user) -> bool:
    return user.is_superuser or user.has_perms(ADMINISTER_PERMISSIONS)


def _declared(model, permission, user, rights) -> bool:
    """Does the role table give ``user`` an action's declared ``permission``?"""
    standard = {"view": "V", "add": "A", "change": "C", "delete": "D"}
    if "." in permission:
        return user.has_perm(permission)
    if permission in standard:
        return standard[permission] in rights
    # custom permissions (place, receive, issue, complete, allocate, ship…) come with the
    # role's change (admin_customisations.roles)
    return "C" in rights


def _expected(url, *, user, model_admin, rights, object_rights, matrix):
    """(GET allowed?, POST allowed?) for one URL; None = not requested that way."""
    kind = url.kind
    administer = _may_administer(user) and "C" in rights
    importable = import_expected(model_admin, user, matrix)
    exportable = export_expected(model_admin, user, matrix)
    table = {
        "changelist": ("V" in rights, None),
        "add": ("A" in rights, "A" in rights),
        "change": ("V" in object_rights, "C" in object_rights),
        "delete": ("D" in object_rights, "D" in object_rights),
        "history": ("V" in object_rights, None),
        "history_version": ("V" in object_rights, "C" in object_rights),
        # the suite's object exists: whoever may add is sent to it (302), nobody else may
        "undelete": ("A" in rights, "A" in rights),
        "object_permissions": (administer, administer),
        "object_permissions_user": (administer, administer),
        "object_permissions_group": (administer, administer),
        "import": (importable, importable),
        "import_template": (importable, None),
        # the suite's run belongs to `suite-owner`: only superusers and job administrators
        # may look at it, nobody else may confirm it, and the preview page takes no POST
        "import_run": (user.is_superuser and "V" in rights, False),
        "import_confirm": (None, False),
        "export": (exportable, exportable),
        "password_change": ("C" in rights, "C" in rights),
    }
    if kind in table:
        return table[kind]
    if kind in ("custom", "custom_model"):
        allowed = url.letter in (object_rights if kind == "custom" else rights)
        return (
            allowed if "GET" in url.methods else None,
            allowed if "POST" in url.methods else None,
        )
    # unfold actions: their declared permissions (a missing declaration is a failure)
    declared = getattr(url.action, "allowed_permissions", None)
    if not declared:
        return (False, False)
    # a detail action acts on one object: the object rules apply (ownership, responsibility)
    rights_here = object_rights if kind == "unfold_action_detail" else rights
    allowed = all(_declared(model_admin.model, p, user, rights_here) for p in declared)
    return (allowed, allowed)


def _args(url, *, obj, user, world, label):
    if url.kind == "import_template":
        return ["csv"]
    if url.kind not in OBJECT_KINDS:
        return []
    if url.kind in ("import_run", "import_confirm"):
        return [world.import_runs[label].pk]
    if url.kind == "history_version":
        return [obj.pk, world.history_ids.get(label)]
    if url.kind == "object_permissions_user":
        return [obj.pk, user.pk]  # the attack: grant yourself
    if url.kind == "object_permissions_group":
        group = user.groups.first() or Group.objects.first()
        return [obj.pk, group.pk]
    return [obj.pk, *url.extra_args]


def _forged_post(url, *, model_admin):
    """What an attacker would send: enough to make the view act if it let them."""
    from guardian.shortcuts import get_perms_for_model

    perms = [p.codename for p in get_perms_for_model(model_admin.model)]
    return {
        "delete": {"post": "yes"},
        "object_permissions": {"submit_manage_user": "1", "user": "reader"},
        "object_permissions_user": {"permissions": perms, "submit_manage_user": "1"},
        "object_permissions_group": {"permissions": perms, "submit_manage_group": "1"},
        "export": {"format": "csv", "columns": ["Name"]},
        "import": {
            "import_file": SimpleUploadedFile("forged.csv", b"Name,IPN\nForged,FORGED-1\n"),
            "delimiter": ",",
        },
        "change": {"name": "forged", "notes": "forged", "_save": "Save"},
        "history_version": {"name": "forged", "_save": "Save"},
        "password_change": {"password1": "Forged-pass-123", "password2": "Forged-pass-123"},
    }.get(url.kind, {"apply": "1", "post": "yes"})


def _check_url(url, *, client, user, model_admin, obj, world, label, failures):
    rights = world.matrix[label][user.username]
    restricted = label in world.restricted and not user.is_superuser
    object_rights = rights.replace("C", "").replace("D", "") if restricted else rights
    view_rule = OBJECT_VIEW_RULES.get(label)
    if view_rule is not None and not view_rule(user, obj):
        object_rights = ""
    manage_rule = OBJECT_MANAGE_RULES.get(label)
    if manage_rule is not None and object_rights and manage_rule(user, obj):
        object_rights += "M"
    get_ok, post_ok = _expected(
        url,
        user=user,
        model_admin=model_admin,
        rights=rights,
        object_rights=object_rights,
        matrix=world.matrix,
    )
    args = _args(url, obj=obj, user=user, world=world, label=label)
    if None in args:
        failures.append(f"{url.name}: no history record for the test object")
        return
    path = reverse(f"admin:{url.name}", args=args)
    where = f"{user.username} {url.kind} {path}"
    if get_ok is not None:
        status = client.get(path).status_code
        if get_ok and status not in (200, 302, *url.also_ok):
            failures.append(f"{where} GET: {status}, expected 200")
        elif not get_ok and status != 403:
            failures.append(f"{where} GET: {status}, expected 403")
    if post_ok is False:
        before = snapshot(obj)
        status = client.post(path, _forged_post(url, model_admin=model_admin)).status_code
        if status != 403:
            failures.append(f"{where} forged POST: {status}, expected 403")
        if snapshot(obj) != before:
            failures.append(f"{where} forged POST changed the database")


def _check_changelist_actions(*, client, user, model_admin, obj, world, label, failures):
    rights = world.matrix[label][user.username]
    changelist = reverse(
        f"admin:{model_admin.model._meta.app_label}_{model_admin.model._meta.model_name}_changelist"
    )
    page = client.get(changelist).content.decode() if "V" in rights else ""
    # what the admin offers at all (some admins drop delete_selected for a service)
    request = RequestFactory().get(changelist)
    request.user = world.users["admin"]
    offered_at_all = set(model_admin.get_actions(request))
    for func, name, _description in model_admin._get_base_actions():
        declared = getattr(func, "allowed_permissions", None)
        if not declared:
            failures.append(f"action {label}.{name} declares no permission")
            continue
        allowed = (
            name in offered_at_all
            and "V" in rights
            and all(_declared(model_admin.model, p, user, rights) for p in declared)
        )
        offered = f'value="{name}"' in page
        where = f"{user.username} action {label}.{name}"
        if offered != allowed:
            failures.append(f"{where}: offered={offered}, expected {allowed}")
        view_rule = OBJECT_VIEW_RULES.get(label)
        hidden = view_rule is not None and not view_rule(user, obj)
        if allowed and not hidden:
            continue
        # refused, or allowed on the model but the object is not the user's to see (someone
        # else's notification): a forged POST naming it must change nothing either way
        before = snapshot(obj)
        response = client.post(
            changelist,
            {"action": name, "_selected_action": [obj.pk], "index": "0", "post": "yes"},
        )
        if response.status_code >= 500:
            failures.append(f"{where} forged POST: {response.status_code}")
        if snapshot(obj) != before:
            failures.append(f"{where} forged POST changed the database")


@pytest.mark.django_db
@pytest.mark.parametrize("username", DEMO_USERS)
@pytest.mark.parametrize("label", registered_labels())
def test_every_admin_url_answers_as_the_role_table_says(label, username, world, client):
    model_admin = admin_for(label)
    obj = world.objects.get(label)
    assert obj is not None, (
        f"{label} has no test object: add an AdminCase (tests/admin_cases.py) or an entry in "
        "tests/security/admin_urls.py THIRD_PARTY_OBJECTS"
    )
    urls, unknown = classify_urls(model_admin)
    assert unknown == [], (
        f"{label}: URL patterns with no expectation {unknown}; add them to "
        "tests/security/admin_urls.py CUSTOM_URLS"
    )
    user = world.users[username]
    client.force_login(user)
    failures = []
    context = dict(client=client, user=user, model_admin=model_admin, obj=obj, world=world)
    for url in urls:
        _check_url(url, label=label, failures=failures, **context)
    _check_changelist_actions(label=label, failures=failures, **context)
    assert failures == []
