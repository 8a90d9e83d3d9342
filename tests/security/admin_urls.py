"""What the permission suite needs to know about the admin: every URL pattern of every
registered ModelAdmin, classified into a kind, and the rule each kind follows.

The URL list comes from the resolver (``model_admin.get_urls()``), so a new admin, a new
third-party app or a new custom page is picked up automatically; a pattern this module
cannot classify fails the suite until an expectation is added to ``CUSTOM_URLS``.
"""

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Max
from django.utils import timezone
from django.views.generic import RedirectView
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.models.models import GroupObjectPermissionBase, UserObjectPermissionBase

from admin_customisations.permissions import model_perm

# Standard admin / library URL name suffixes -> kind.
STANDARD_SUFFIXES = {
    "changelist": "changelist",
    "add": "add",
    "change": "change",
    "delete": "delete",
    "history": "history",
    "simple_history": "history_version",
    "permissions": "object_permissions",
    "permissions_manage_user": "object_permissions_user",
    "permissions_manage_group": "object_permissions_group",
    # spreadsheet import/export (admin_customisations.importing.admin)
    "import": "import",
    "import_template": "import_template",
    "import_run": "import_run",
    "import_confirm": "import_confirm",
    "export": "export",
    "password_change": "password_change",
    # restoring a deleted object from its history (admin_customisations.history.undelete)
    "undelete": "undelete",
}

# Pages a ModelAdmin adds itself (not an unfold action): url name -> (letter it needs on
# the object: V view, A add, C change, D delete; the methods the page answers[; statuses an
# allowed GET may answer besides 200/302]).
CUSTOM_URLS = {
    "inventory_part_bom": ("V", {"GET"}),  # the BOM tab of a part (read-only; edits are actions)
    # a lazy tab of the part page (admin_customisations/tabs.py): a read; a POST is refused
    # (403 without the right, 405 with it). Tried with the history tab, whose table is the
    # part's own; each tab's own model permission: tests/inventory/test_part_tabs.py
    "inventory_part_tab": ("V", {"GET", "POST"}),
    # background jobs: see OBJECT_VIEW_RULES (V) and OBJECT_MANAGE_RULES (M)
    "job_progress": ("V", {"GET"}),
    "job_failed_csv": ("V", {"GET"}),
    "job_download": ("M", {"GET"}, (404,)),  # 404: the suite's job has no file
    "job_cancel": ("M", {"POST"}),
    "job_retry": ("M", {"POST"}),
}

# Further URL arguments of custom pages after the object's id.
CUSTOM_URL_ARGS = {"inventory_part_tab": ("history",)}

# Pages a ModelAdmin adds that are not about one object (no id in the URL): url name ->
# (letter the model's role needs, the methods the page answers[; statuses an allowed GET
# may answer besides 200/302]).
CUSTOM_MODEL_URLS = {
    # stock as of a date (a read; a POST starts the job writing a large answer's file)
    "inventory_stockitem_as_of": ("V", {"GET", "POST"}),
    # the stock pickers' autocomplete (admin_customisations.pickers): a read, like Django's
    # (404 without a picker named: the suite's GET has no query)
    "inventory_stockitem_picker": ("V", {"GET"}, (404,)),
}

# Admins whose objects are not visible to everyone who may view the model.
OBJECT_VIEW_RULES = {
    # the admin role (view or more) sees every job; everyone else only their own
    "admin_customisations.backgroundjob": lambda user, job: (
        user.is_superuser
        or job.created_by_id == user.pk
        or user.has_perm("admin_customisations.view_backgroundjob")
    ),
}

OBJECT_VIEW_RULES["admin_customisations.notification"] = (
    # an inbox is its owner's alone, superusers included (the suite's belongs to nobody here)
    lambda user, notification: notification.recipient_id == user.pk
)

# Who may manage an object on pages marked "M" (cancel, retry, download a job's file).
OBJECT_MANAGE_RULES = {
    "admin_customisations.backgroundjob": lambda user, job: (
        user.is_superuser
        or job.created_by_id == user.pk
        or user.has_perm("admin_customisations.change_backgroundjob")
    ),
}

OBJECT_KINDS = {
    "import_run",  # these two take the suite's import run of the admin, not the object
    "import_confirm",
    "change",
    "delete",
    "history",
    "history_version",
    "undelete",
    "object_permissions",
    "object_permissions_user",
    "object_permissions_group",
    "password_change",
    "unfold_action_detail",
    "custom",
}


@dataclass(frozen=True)
class AdminUrl:
    name: str  # without the "admin:" namespace
    kind: str
    letter: str = ""  # for custom pages
    methods: frozenset = frozenset({"GET", "POST"})
    also_ok: tuple = ()  # statuses besides 200/302 that an allowed GET may answer
    action: object = None  # the unfold action's method
    extra_args: tuple = ()  # URL arguments after the object's id (CUSTOM_URL_ARGS)


def unfold_actions(model_admin) -> dict[str, object]:
    """{url name: method} of the unfold detail/row/list actions (each has its own URL)."""
    found = {}
    for group in ("actions_detail", "actions_row", "actions_list"):
        extract = getattr(model_admin, "_extract_action_names", None)
        if extract is None:
            continue
        for name in extract(getattr(model_admin, group, ()) or ()):
            action = model_admin.get_unfold_action(name)
            found[action.action_name] = (group, action.method)
    return found


def classify_urls(model_admin) -> tuple[list[AdminUrl], list[str]]:
    """(classified URLs, names of patterns with no expectation)."""
    opts = model_admin.model._meta
    prefix = f"{opts.app_label}_{opts.model_name}_"
    actions = unfold_actions(model_admin)
    urls, unknown = [], []
    for pattern in model_admin.get_urls():
        name = pattern.name
        if not name:
            if getattr(pattern.callback, "view_class", None) is RedirectView:
                continue  # Django's "<id>/" -> "<id>/change/" redirect
            unknown.append(str(pattern.pattern))
            continue
        if name in actions:
            group, method = actions[name]
            kind = "unfold_action_detail" if group != "actions_list" else "unfold_action_list"
            urls.append(AdminUrl(name, kind, action=method))
        elif name in CUSTOM_URLS:
            letter, methods, *also_ok = CUSTOM_URLS[name]
            urls.append(
                AdminUrl(
                    name,
                    "custom",
                    letter=letter,
                    methods=frozenset(methods),
                    also_ok=tuple(also_ok[0]) if also_ok else (),
                    extra_args=CUSTOM_URL_ARGS.get(name, ()),
                )
            )
        elif name in CUSTOM_MODEL_URLS:
            letter, methods, *also_ok = CUSTOM_MODEL_URLS[name]
            urls.append(
                AdminUrl(
                    name,
                    "custom_model",
                    letter=letter,
                    methods=frozenset(methods),
                    also_ok=tuple(also_ok[0]) if also_ok else (),
                )
            )
        elif name.startswith(prefix) and name.removeprefix(prefix) in STANDARD_SUFFIXES:
            urls.append(AdminUrl(name, STANDARD_SUFFIXES[name.removeprefix(prefix)]))
        else:
            unknown.append(name)
    return urls, unknown


def registered_labels() -> list[str]:
    return sorted(model._meta.label_lower for model in admin.site._registry)


def admin_for(label: str):
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model_admin
    raise LookupError(label)


# --- spreadsheet import/export: what the role table says (docs/importing.md) ---


def sheet_resource(model_admin):
    """The resource an admin's import/export pages use by default (None: no such pages)."""
    resources = getattr(model_admin, "sheet_resources", lambda: [])()
    return resources[0] if resources else None


def _letters(model, user, matrix) -> str:
    label = model._meta.label_lower
    if label in matrix:
        return matrix[label][user.username]
    # a model without an admin of its own (order lines): its role's model permissions
    return "".join(
        letter
        for letter, action in zip("VACD", ("view", "add", "change", "delete"), strict=True)
        if user.has_perm(model_perm(model, action))
    )


def import_expected(model_admin, user, matrix) -> bool:
    """Import: add AND change on the resource's model, view on the models it names."""
    resource = sheet_resource(model_admin)
    if resource is None:
        return False
    from admin_customisations.importing.admin import referenced_models

    rights = _letters(resource.model, user, matrix)
    if not ("A" in rights and "C" in rights):
        return False
    return all(
        "V" in _letters(m, user, matrix) or "C" in _letters(m, user, matrix)
        for m in referenced_models(resource)
    )


# Export needs view, except contacts (personal data): change.
EXPORT_NEEDS = {"orders.contact": "C"}


def export_expected(model_admin, user, matrix) -> bool:
    resource = sheet_resource(model_admin)
    if resource is None:
        return False
    letter = EXPORT_NEEDS.get(resource.model._meta.label_lower, "V")
    return letter in _letters(resource.model, user, matrix)


def import_run_for(model_admin, owner):
    """A validated import run of ``owner`` on this admin (others may not see or confirm it)."""
    from admin_customisations.models import ImportRun

    resource = sheet_resource(model_admin)
    if resource is None:
        return None
    return ImportRun.objects.create(
        resource=resource.name,
        original_name="suite.csv",
        user=owner,
        status=ImportRun.Status.VALID,
        total_rows=1,
        new_count=1,
    )


# --- objects for admins without an AdminCase (third-party and auth) ---


def _periodic_task():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=7, period=IntervalSchedule.DAYS)
    return PeriodicTask.objects.create(
        name="suite: nightly check", task="admin_customisations.tasks.noop", interval=every
    )


def _make(model_path: str, **fields):
    def make():
        from django.apps import apps

        return apps.get_model(model_path).objects.create(**fields)

    return make


_ACCESS = dict(
    username="suite-attacker", ip_address="127.0.0.9", user_agent="suite", path_info="/admin/login/"
)


def _change_log_entry():
    """The log entry of a part category the suite creates (every demo account may view it)."""
    from admin_customisations.history.models import ChangeLogEntry
    from inventory.models import PartCategory
    from inventory.services.common import save_with_history

    category = PartCategory(name="suite change log category")
    save_with_history(category, user=None, reason="Suite object")
    return ChangeLogEntry.objects.filter(object_id=category.pk).latest("history_id")


def _notification():
    """A notification of somebody else (no demo account may open or mark it)."""
    from django.contrib.contenttypes.models import ContentType

    from admin_customisations.models import Notification

    recipient = User.objects.create_user("suite-recipient", password="x-unused-9", is_staff=True)
    return Notification.objects.create(
        recipient=recipient,
        condition=Notification.Condition.LOW_STOCK,
        content_type=ContentType.objects.get_for_model(User),
        object_id=recipient.pk,
        title="Suite notification",
    )


THIRD_PARTY_OBJECTS = {
    "admin_customisations.changelogentry": _change_log_entry,
    "admin_customisations.notification": _notification,
    "axes.accessattempt": _make(
        "axes.AccessAttempt", get_data="", post_data="", failures_since_start=3, **_ACCESS
    ),
    "axes.accessfailurelog": _make("axes.AccessFailureLog", **_ACCESS),
    "axes.accesslog": _make("axes.AccessLog", **_ACCESS),
    "auth.user": lambda: User.objects.create_user("suite-target", password="x-unused-9"),
    "auth.group": lambda: Group.objects.create(name="suite target group"),
    "django_celery_beat.periodictask": _periodic_task,
    "django_celery_beat.intervalschedule": _make(
        "django_celery_beat.IntervalSchedule", every=3, period="hours"
    ),
    "django_celery_beat.crontabschedule": _make(
        "django_celery_beat.CrontabSchedule", minute="5", hour="4"
    ),
    "django_celery_beat.solarschedule": _make(
        "django_celery_beat.SolarSchedule", event="sunrise", latitude=50, longitude=8
    ),
    "django_celery_beat.clockedschedule": lambda: _make(
        "django_celery_beat.ClockedSchedule", clocked_time=timezone.now()
    )(),  # the time is taken when the object is made
    "django_celery_results.taskresult": _make(
        "django_celery_results.TaskResult", task_id="suite-task-1", status="SUCCESS"
    ),
    "django_celery_results.groupresult": _make(
        "django_celery_results.GroupResult", group_id="suite-group-1"
    ),
}


# --- database snapshot: what a forbidden POST must leave untouched ---


def _snapshot_models():
    from django.apps import apps

    models = set(admin.site._registry)
    for model in list(models):
        history = getattr(model, "history", None)
        if history is not None and hasattr(history, "model"):
            models.add(history.model)
    models |= {UserObjectPermission, GroupObjectPermission}
    models |= {
        m
        for m in apps.get_models()
        if issubclass(m, UserObjectPermissionBase | GroupObjectPermissionBase)
    }
    from admin_customisations.models import BackgroundJob, ImportRun, NotificationPreference
    from inventory.models import PartSubscription, StockItem, StockItemTracking

    models |= {StockItem, StockItemTracking, ImportRun, BackgroundJob}
    models |= {PartSubscription, NotificationPreference}
    return sorted(models, key=lambda m: m._meta.label_lower)


_SNAPSHOT_MODELS = None


def snapshot(obj=None) -> dict:
    """Counts and highest primary keys of every admin model, its history and the guardian
    tables, plus the full row of ``obj``: cheap, and any write shows up in it."""
    global _SNAPSHOT_MODELS
    if _SNAPSHOT_MODELS is None:
        _SNAPSHOT_MODELS = _snapshot_models()
    state = {}
    for model in _SNAPSHOT_MODELS:
        manager = model._base_manager
        state[model._meta.label_lower] = (
            manager.count(),
            manager.aggregate(top=Max("pk"))["top"],
        )
    if obj is not None:
        state["object"] = list(type(obj)._base_manager.filter(pk=obj.pk).values())
    return state


def has_letter(rights: str, letter: str) -> bool:
    return letter in rights


def custom_permission_letter(model, permission: str, user) -> bool:
    """An action's declared permission, from the role table's point of view."""
    if "." in permission:
        return user.has_perm(permission)
    if permission in {"view", "add", "change", "delete"}:
        return user.has_perm(model_perm(model, permission))
    # custom permissions (place, receive, issue, complete, allocate, ship…) come with the
    # role's change (admin_customisations.roles)
    return user.has_perm(model_perm(model, "change"))
