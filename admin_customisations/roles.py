"""Roles: InvenTree-style rulesets mapping a role to the models it covers.

A group holds roles, each with view/add/change/delete (``GroupRole`` rows).
``sync_group_permissions`` turns a group's roles into Django model permissions:
for every model of a role, the role's actions; custom permissions of a model
(``receive_purchaseorder``, ``complete_buildorder``…) come with ``change``.
Some roles also need to *see* models owned by other roles (a builder must see
parts, BOMs, stock and locations); those are listed as ``view_models``.
A model may belong to several roles; the union applies.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

ACTIONS = ("view", "add", "change", "delete")

COMPANY_MODELS = ("orders.company", "orders.contact", "orders.address")


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    models: tuple[str, ...]
    view_models: tuple[str, ...] = field(default=())


ROLES: tuple[Role, ...] = (
    Role(
        "admin",
        "Administration",
        (
            "auth.user",
            "auth.group",
            "admin_customisations.backgroundjob",
            "admin_customisations.grouprole",
            "django_celery_results.taskresult",
            "django_celery_results.groupresult",
            "django_celery_beat.periodictask",
            "django_celery_beat.intervalschedule",
            "django_celery_beat.crontabschedule",
            "django_celery_beat.solarschedule",
            "django_celery_beat.clockedschedule",
            "axes.accessattempt",
            "axes.accesslog",
            "axes.accessfailurelog",
        ),
    ),
    Role("part_category", "Part categories", ("inventory.partcategory",)),
    Role(
        "part",
        "Parts",
        (
            "inventory.part",
            "inventory.partparameter",
            "inventory.partparametertemplate",
            "builds.bomitem",
            "builds.bomitemsubstitute",
            "orders.supplierpart",
            "orders.manufacturerpart",
        ),
    ),
    Role("stock_location", "Stock locations", ("inventory.stocklocation",)),
    Role("stock", "Stock items", ("inventory.stockitem", "inventory.stockitemtracking")),
    Role(
        "build",
        "Build orders",
        ("builds.buildorder", "builds.buildline", "builds.builditem"),
        view_models=(
            "inventory.part",
            "inventory.partcategory",
            "inventory.partparameter",
            "builds.bomitem",
            "builds.bomitemsubstitute",
            "inventory.stockitem",
            "inventory.stocklocation",
        ),
    ),
    Role(
        "purchase_order",
        "Purchase orders",
        (
            *COMPANY_MODELS,
            "orders.manufacturerpart",
            "orders.supplierpart",
            "orders.supplierpricebreak",
            "orders.purchaseorder",
            "orders.purchaseorderline",
            "orders.purchaseorderextraline",
        ),
    ),
    Role(
        "sales_order",
        "Sales orders",
        (
            *COMPANY_MODELS,
            "orders.salesorder",
            "orders.salesorderline",
            "orders.salesorderextraline",
            "orders.salesordershipment",
            "orders.salesorderallocation",
        ),
    ),
    Role(
        "return_order",
        "Return orders",
        (*COMPANY_MODELS, "orders.returnorder", "orders.returnorderline"),
    ),
)

ROLE_BY_NAME = {role.name: role for role in ROLES}

# Apps whose pages are operations internals (Celery results, beat schedules): listed in the
# sidebar and on the app index only for users who hold the admin role (``holds_admin_role``).
INTERNAL_APPS = ("django_celery_results", "django_celery_beat")


def holds_admin_role(user) -> bool:
    """Superusers, and users whose groups hold the "Administration" role with *change*
    (every demo group holds it with view only, to follow jobs: docs/decisions.md)."""
    from django_celery_beat.models import PeriodicTask

    from admin_customisations.permissions import user_may

    return bool(user and user.is_active) and (
        user.is_superuser or user_may(user, "change", model=PeriodicTask)
    )


def admin_role_users():
    """The users ``holds_admin_role`` accepts, as a queryset (active superusers, and active
    users granted *change* on the periodic tasks directly or through a group)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    query = Q(is_superuser=True)
    perm = Permission.objects.filter(
        content_type__app_label="django_celery_beat", codename="change_periodictask"
    ).first()
    if perm is not None:
        query |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    return get_user_model()._default_manager.filter(query, is_active=True).distinct()


ROLE_CHOICES = [(role.name, role.label) for role in ROLES]

# The demo groups, as in InvenTree's demo: role -> actions.
ALL = ACTIONS
DEMO_GROUP_ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "readers": {role.name: ("view",) for role in ROLES},
    "engineering": {
        "admin": ("view",),
        "part_category": ALL,
        "part": ALL,
        "stock_location": ("view",),
        "stock": ("view",),
        "build": ("view",),
    },
    "all access": {role.name: (("view",) if role.name == "admin" else ALL) for role in ROLES},
}


def _content_types(labels):
    by_label = {}
    for label in labels:
        app_label, model_name = label.split(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:  # an app not installed (yet)
            continue
        by_label[label] = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return by_label


def permissions_for(roles: dict[str, tuple[str, ...]]) -> set[int]:
    """Permission ids granted by ``{role name: actions}``."""
    wanted: set[tuple[int, str]] = set()  # (content type id, codename)
    custom_for_change: set[int] = set()
    all_labels = {label for role in ROLES for label in (*role.models, *role.view_models)}
    content_types = _content_types(all_labels)
    for name, actions in roles.items():
        role = ROLE_BY_NAME[name]
        for label in role.models:
            if label not in content_types:
                continue
            ct = content_types[label]
            for action in actions:
                wanted.add((ct.pk, f"{action}_{ct.model}"))
            if "change" in actions:
                custom_for_change.add(ct.pk)
        if actions:
            for label in role.view_models:
                if label in content_types:
                    ct = content_types[label]
                    wanted.add((ct.pk, f"view_{ct.model}"))
    permissions = Permission.objects.filter(
        content_type_id__in={ct.pk for ct in content_types.values()}
    )
    standard = {f"{a}_" for a in ACTIONS}
    granted = set()
    for pk, ct_id, codename in permissions.values_list("pk", "content_type_id", "codename"):
        if (ct_id, codename) in wanted:
            granted.add(pk)
        elif ct_id in custom_for_change and not any(codename.startswith(p) for p in standard):
            granted.add(pk)
    return granted


def group_roles(group) -> dict[str, tuple[str, ...]]:
    """The roles stored for ``group``: ``{role name: actions}``."""
    from admin_customisations.models import GroupRole

    return {row.role: row.actions() for row in GroupRole.objects.filter(group=group)}


@transaction.atomic
def sync_group_permissions(group) -> bool:
    """Make ``group``'s Django permissions exactly what its roles grant; True if anything changed."""
    wanted = permissions_for(group_roles(group))
    current = set(group.permissions.values_list("pk", flat=True))
    if wanted == current:
        return False
    group.permissions.set(wanted)
    return True


def sync_all_groups() -> list[str]:
    """Sync every group that has roles; returns the names of groups that changed."""
    from admin_customisations.models import GroupRole

    groups = Group.objects.filter(pk__in=GroupRole.objects.values("group"))
    return [group.name for group in groups if sync_group_permissions(group)]


@transaction.atomic
def set_group_roles(
    group, roles: dict[str, tuple[str, ...]], *, user=None, reason: str = ""
) -> None:
    """Store ``{role: actions}`` for a group (roles not mentioned are removed), then sync.

    History records go to ``user`` (else the acting system actor, see
    ``inventory.services.actors``) with ``reason`` (default: what changed)."""
    from admin_customisations.models import GroupRole
    from inventory.services.common import delete_with_history, save_with_history

    unknown = set(roles) - set(ROLE_BY_NAME)
    if unknown:
        raise ValueError(f"Unknown roles: {', '.join(sorted(unknown))}")
    removed = GroupRole.objects.filter(group=group).exclude(
        role__in=[r for r, a in roles.items() if a]
    )
    for row in removed:
        delete_with_history(row, user=user, reason=reason or f"Role {row.role} removed")
    existing = {row.role: row for row in GroupRole.objects.filter(group=group)}
    for name, actions in roles.items():
        if not actions:
            continue
        flags = {f"can_{action}": action in actions for action in ACTIONS}
        row = existing.get(name)
        if row is None:
            row = GroupRole(group=group, role=name, **flags)
            save_with_history(row, user=user, reason=reason or f"Role {name} granted")
        elif any(getattr(row, flag) != value for flag, value in flags.items()):
            for flag, value in flags.items():
                setattr(row, flag, value)
            save_with_history(row, user=user, reason=reason or f"Role {name} changed")
    sync_group_permissions(group)
