"""The one permission question: may this user do this action on this object?

The answer combines the role (Django's model permission ``<app>.<action>_<model>``,
granted through ``admin_customisations.roles``) with the object rules:

* stock ownership (``inventory.permissions``): changing or deleting a stock
  location or a stock item needs ownership of its nearest owned location when
  ``STOCK_OWNERSHIP_CONTROL`` is on;
* responsible party (``inventory.responsibility``): changing or deleting an
  order or build with a responsible user/group needs that object permission
  when ``ORDERS_RESPONSIBLE_ONLY`` is on.

Viewing is never restricted per object. The base admin's ``has_*_permission``
methods delegate here, and so do the object-permission pages
(``may_administer_object_permissions``).
"""

import functools

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError

ACTIONS = ("view", "add", "change", "delete")

# Who may grant or revoke guardian object permissions (ownership of locations,
# responsibility for orders and builds): superusers, and users whose role is
# "Administration" with *change* — the same people who may already edit groups'
# roles and users, so the page gives them no power they do not have.
ADMINISTER_PERMISSIONS = ("auth.change_user", "auth.change_group")


def model_perm(model, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


def _object_rule(model):
    """The object rule for ``model`` (``rule(user, obj) -> bool``), or None if it has none."""
    from inventory.models import StockItem, StockLocation
    from inventory.permissions import may_change_location, may_change_stock_item
    from inventory.responsibility import may_change_responsible

    if issubclass(model, StockLocation):
        return may_change_location
    if issubclass(model, StockItem):
        return may_change_stock_item
    field_names = {f.name for f in model._meta.get_fields()}
    if {"responsible_user", "responsible_group"} <= field_names:
        return lambda user, obj: may_change_responsible(obj, user)
    return None


def uses_object_grants(model) -> bool:
    """True if guardian grants on ``model``'s objects mean something: owners of stock
    locations, responsible people of orders and builds. Only these admins offer the
    object-permission pages."""
    from inventory.models import StockLocation

    if issubclass(model, StockLocation):
        return True
    return {"responsible_user", "responsible_group"} <= {f.name for f in model._meta.get_fields()}


def has_object_rules(model) -> bool:
    """True if objects of ``model`` are restricted individually (ownership, responsibility)."""
    return _object_rule(model) is not None


def object_rules_allow(user, obj) -> bool:
    """The object rules alone (no model permission): may ``user`` change/delete ``obj``?"""
    rule = _object_rule(type(obj))
    return rule is None or rule(user, obj)


def user_may(user, action: str, obj=None, *, model=None) -> bool:
    """May ``user`` do ``action`` (view/add/change/delete) on ``obj`` (or on ``model`` at all)?

    ``obj`` may also be a primary key (unfold passes the object id to the permission
    checks of detail actions)."""
    model = model or type(obj)
    if user is None or not user.is_active:
        return False
    if action == "view":  # as Django: who may change may also view
        return user.has_perm(model_perm(model, "view")) or user.has_perm(
            model_perm(model, "change")
        )
    if not user.has_perm(model_perm(model, action)):
        return False
    if obj is None or action == "add" or not has_object_rules(model):
        return True
    if not isinstance(obj, model):
        try:
            obj = model._default_manager.filter(pk=obj).first()
        except (TypeError, ValueError, ValidationError):  # "abc" in the URL: not found
            return True  # the view itself answers 404
        if obj is None:
            return True  # nothing to protect; the view itself answers "not found"
    return object_rules_allow(user, obj)


def may_administer_object_permissions(user) -> bool:
    """May ``user`` grant or revoke object permissions (the guardian pages)?"""
    if user is None or not user.is_active or not user.is_staff:
        return False
    return user.is_superuser or user.has_perms(ADMINISTER_PERMISSIONS)


def _requiring(func, permission: str):
    @functools.wraps(func)
    def action(*args, **kwargs):
        return func(*args, **kwargs)

    action.allowed_permissions = (permission,)
    return action


def with_action_permissions(admin_class, permission: str = "change"):
    """A subclass of a third-party ``admin_class`` whose actions that declare no permission
    require ``permission`` (Django then hides them and refuses a forged POST).

    django-celery-beat's enable/disable/toggle/run actions declare none, so anyone who
    may *view* periodic tasks could run them.
    """
    namespace, actions = {}, []
    for entry in admin_class.actions or ():
        func = getattr(admin_class, entry) if isinstance(entry, str) else entry
        if getattr(func, "allowed_permissions", None):
            actions.append(entry)
            continue
        gated = _requiring(func, permission)
        if isinstance(entry, str):
            namespace[entry] = gated
            actions.append(entry)
        else:
            actions.append(gated)
    namespace["actions"] = actions
    return type(admin_class.__name__, (admin_class,), namespace)
