"""The responsible party of an order or build, as django-guardian object permissions.

Orders (purchase, sales, return) and build orders have a responsible user
and/or group. Whoever is responsible is granted the object's ``change_<model>``
permission through guardian (direct foreign-key tables), kept in step with the
``responsible_*`` fields whenever the object is saved; more people can be
granted on the object's **Object permissions** admin page.

With ``ORDERS_RESPONSIBLE_ONLY`` on, a non-superuser may change or transition
an order or build that has a responsible party only if they hold that object
permission (directly or through a group): the global change permission alone
is not enough. Objects without a responsible party follow the global
permissions. Off by default. This module is the one place that decides;
services, admin pages and actions call it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm


def responsible_only() -> bool:
    return getattr(settings, "ORDERS_RESPONSIBLE_ONLY", False)


def change_perm(obj_or_model) -> str:
    opts = obj_or_model._meta
    return f"{opts.app_label}.change_{opts.model_name}"


def has_responsible(obj) -> bool:
    return bool(obj.responsible_user_id or obj.responsible_group_id)


def sync_responsible_permissions(obj, previous: tuple | None = None) -> None:
    """Grant the current responsible user/group; revoke the grant of a replaced one."""
    perm = change_perm(obj)
    old_user, old_group = previous or (None, None)
    if old_user and old_user != obj.responsible_user_id:
        remove_perm(
            perm, type(obj).responsible_user.field.related_model.objects.get(pk=old_user), obj
        )
    if old_group and old_group != obj.responsible_group_id:
        remove_perm(
            perm, type(obj).responsible_group.field.related_model.objects.get(pk=old_group), obj
        )
    if obj.responsible_user_id:
        assign_perm(perm, obj.responsible_user, obj)
    if obj.responsible_group_id:
        assign_perm(perm, obj.responsible_group, obj)


def may_change_responsible(obj, user) -> bool:
    if (
        not responsible_only()
        or user is None
        or getattr(user, "is_superuser", False)
        or not has_responsible(obj)
    ):
        return True
    return ObjectPermissionChecker(user).has_perm(change_perm(obj).split(".")[1], obj)


def check_responsible(obj, user) -> None:
    """Refuse (ValidationError) a change by someone who is not responsible for ``obj``."""
    if not may_change_responsible(obj, user):
        who = " / ".join(str(x) for x in (obj.responsible_user, obj.responsible_group) if x)
        raise ValidationError(
            f"Only the people responsible for {obj.reference} ({who}) may change it."
        )


def changeable_by(user, queryset):
    """The objects of ``queryset`` that ``user`` may change under the responsibility rule."""
    if not responsible_only() or getattr(user, "is_superuser", False):
        return queryset
    granted = get_objects_for_user(
        user, change_perm(queryset.model), klass=queryset, accept_global_perms=False
    ).values("pk")
    return queryset.filter(
        responsible_user__isnull=True, responsible_group__isnull=True
    ) | queryset.filter(pk__in=granted)


def _remember_previous(sender, instance, **kwargs):
    instance._previous_responsible = (
        sender.objects.filter(pk=instance.pk)
        .values_list("responsible_user_id", "responsible_group_id")
        .first()
        if instance.pk
        else None
    )


def _grant_current(sender, instance, raw=False, **kwargs):
    if not raw:
        sync_responsible_permissions(instance, getattr(instance, "_previous_responsible", None))


def track_responsibility(model) -> None:
    """Keep ``model``'s responsible party's object permissions in step on every save."""
    from django.db.models.signals import post_save, pre_save

    uid = f"responsible_{model._meta.label_lower}"
    pre_save.connect(_remember_previous, sender=model, dispatch_uid=f"{uid}_pre", weak=False)
    post_save.connect(_grant_current, sender=model, dispatch_uid=f"{uid}_post", weak=False)
