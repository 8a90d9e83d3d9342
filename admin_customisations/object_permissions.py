"""Guardian's object-permission pages, restricted to the people who administer access.

django-guardian's ``GuardedModelAdminMixin`` lets anyone with the model's change
permission open ``<id>/permissions/`` and grant any user or group (themselves
included) any object permission — e.g. ownership of a stock location. Here every
one of those pages, GET and POST, answers 403 unless
``may_administer_object_permissions`` says yes, and the "Object permissions"
tab is shown only to those people. The pages exist only for models whose
object grants mean something (``uses_object_grants``: stock locations, orders,
builds).
"""

import dataclasses

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.admin import GuardedModelAdminMixin

from admin_customisations.permissions import (
    may_administer_object_permissions,
    object_rules_allow,
    uses_object_grants,
)


class ObjectPermissionsAdminMixin(GuardedModelAdminMixin):
    change_form_template = "admin_customisations/change_form.html"

    @property
    def include_object_permissions_urls(self):
        return uses_object_grants(self.model)

    def has_object_permissions_permission(self, request, obj=None) -> bool:
        """May this request's user grant or revoke object permissions here? Administrators
        (superuser, or the Administration role with change) who may also change this model."""
        return (
            self.include_object_permissions_urls
            and may_administer_object_permissions(request.user)
            and self.has_change_permission(request)
        )

    def _require_object_permissions_permission(self, request):
        if not self.has_object_permissions_permission(request):
            raise PermissionDenied("Only administrators may grant or revoke object permissions.")

    def obj_perms_manage_view(self, request, object_pk):
        self._require_object_permissions_permission(request)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        self._require_object_permissions_permission(request)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        self._require_object_permissions_permission(request)
        return super().obj_perms_manage_group_view(request, object_pk, group_id)

    def render_change_form(self, request, context, *args, **kwargs):
        context["may_administer_object_permissions"] = self.has_object_permissions_permission(
            request
        )
        return super().render_change_form(request, context, *args, **kwargs)


class ObjectRulesActionsMixin:
    """Unfold detail (and row) actions act on one object, so the object rules apply to them:
    on a stock location someone else owns, or an order/build someone else is responsible
    for, the buttons are not offered and their URLs answer 403 — whatever permission the
    action declares (``place``, ``issue``… are model-level). Actions that only need
    ``view`` are not restricted."""

    def _object_actions(self) -> set[str]:
        return set(self._extract_action_names(self.actions_detail)) | set(
            self._extract_action_names(self.actions_row)
        )

    def object_for_rules(self, request, object_id):
        """The object ``object_id`` names (None: none, or "abc"), loaded once per request: a
        page asks the rules once per detail action (and unfold once per permission)."""
        cache = request.__dict__.setdefault("_objects_for_rules", {})
        key = (self.model._meta.label_lower, str(object_id))
        if key not in cache:
            try:
                cache[key] = self.model._default_manager.filter(pk=unquote(str(object_id))).first()
            except (TypeError, ValueError, ValidationError):
                cache[key] = None  # "abc" in the URL: the action's own view answers 404
        return cache[key]

    def _object_rules_allow_action(self, request, object_id, method) -> bool:
        declared = getattr(method, "allowed_permissions", None) or ("change",)
        if all(p == "view" or p.endswith(".view") for p in declared):
            return True
        obj = self.object_for_rules(request, object_id)
        return obj is None or object_rules_allow(request.user, obj)

    def get_unfold_action(self, action):
        found = super().get_unfold_action(action)
        if action not in self._object_actions():
            return found
        method = found.method

        def checked(request, object_id, *args, **kwargs):
            if not self._object_rules_allow_action(request, object_id, method):
                raise PermissionDenied(
                    "You may not change this object (ownership or responsible party)."
                )
            return method(request, object_id, *args, **kwargs)

        checked.__dict__.update(getattr(method, "__func__", method).__dict__)
        checked.__name__ = getattr(method, "__name__", action)
        return dataclasses.replace(found, method=checked)

    def get_actions_detail(self, request, object_id):
        return [
            action
            for action in super().get_actions_detail(request, object_id)
            if self._object_rules_allow_action(request, object_id, action.method)
        ]
