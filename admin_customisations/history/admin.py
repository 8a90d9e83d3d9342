"""The history version page ("revert") of every Stockroom admin, made safe.

django-simple-history's ``history_form_view`` saves a posted form with only *view*
permission, checks permission against the historical copy (its old location, its old
responsible person) and writes the model directly. Here:

* viewing a version needs view permission (on the current object when it still exists);
* reverting (any POST) needs the admin's own ``has_change_permission(request, obj)`` on
  the current object — the role plus the object rules (stock ownership, responsible
  party) — otherwise 403 and nothing changes;
* a revert restores the version's values (posted field values are ignored) for the
  fields ``history.revert`` allows on that model, through the model's service;
* the version is shown read-only, with what a revert would restore and what it cannot.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import mark_safe
from simple_history.utils import get_history_model_for_model

from admin_customisations.history.diffs import FieldChange, diff_records
from admin_customisations.history.revert import (
    ALWAYS_SERVICE_ONLY,
    apply_revert,
    join_names,
    plan_revert,
    policy_for,
    version_label,
)
from admin_customisations.history.undelete import undelete_url
from admin_customisations.history.undelete_admin import UndeleteAdminMixin


@dataclass(frozen=True)
class PreviewRow:
    """One field of the revert preview: its value now, in the version, and what a revert does."""

    change: FieldChange
    outcome: str  # "restore", "refused" or "missing"
    note: str = ""


def revert_preview(model, current, version, plan, *, may_revert: bool) -> list[PreviewRow]:
    """Every field in which ``version`` differs from ``current``, rendered (now → version),
    with whether a revert restores it and, if not, why. For someone who may not revert, what
    the revert policy would restore for someone who may."""
    policy = policy_for(model)
    blocked = ALWAYS_SERVICE_ONLY | policy.service_only
    rows = []
    for change in diff_records(model, [(current, version)])[0]:
        if not may_revert:
            allowed = change.name not in blocked and (
                policy.fields is None or change.name in policy.fields
            )
            note = "" if allowed else f"changed only by {plan.changed_by}"
            rows.append(PreviewRow(change, "restore" if allowed else "refused", note))
        elif change.name in plan.changes:
            rows.append(PreviewRow(change, "restore"))
        elif change.name in plan.missing:
            rows.append(PreviewRow(change, "missing", "the object it refers to no longer exists"))
        else:
            rows.append(PreviewRow(change, "refused", f"changed only by {plan.changed_by}"))
    return rows


class SafeHistoryAdminMixin(UndeleteAdminMixin):
    """Mixed into StockroomModelAdmin before SimpleHistoryAdmin (with the undelete page of
    the models in ``history.undelete.UNDELETABLE``)."""

    object_history_form_template = "admin_customisations/history/object_history_form.html"
    object_history_list_template = "admin_customisations/history/object_history_list.html"

    # --- the History tab: readable diffs (history.diffs) ----------------------------------

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # The diffs look related objects up in bulk; no join per tracked foreign key.
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each record's changes against the version before it (also for the page's oldest
        record, whose previous version is on the next page)."""
        records = list(historical_records)
        if not records:
            return
        before_page = records[-1].prev_record if records[-1].history_type != "+" else None
        pairs = []
        for index, record in enumerate(records):
            older = records[index + 1] if index + 1 < len(records) else before_page
            pairs.append((older if record.history_type == "~" else None, record))
        for record, changes in zip(records, diff_records(self.model, pairs), strict=True):
            record.history_delta_changes = changes

    # --- permission ------------------------------------------------------------------

    def may_revert(self, request, obj) -> bool:
        """Change permission on the model and on this (current) object; reverts not disabled."""
        if obj is None or getattr(settings, "SIMPLE_HISTORY_REVERT_DISABLED", False):
            return False
        return self.has_change_permission(request, obj) and self.has_change_history_permission(
            request, obj
        )

    def revert_disabled(self, request, obj=None):
        return not self.may_revert(request, obj)

    # --- the version page ------------------------------------------------------------

    def _history_record(self, object_id, version_id):
        history_model = get_history_model_for_model(self.model)
        lookup = {self.model._meta.pk.attname: object_id, "history_id": version_id}
        try:
            record = (
                history_model._default_manager.select_related("history_user")
                .filter(**lookup)
                .first()
            )
        except (ValueError, ValidationError):  # a malformed id in the URL
            record = None
        if record is None:
            raise Http404("No such version in this object's history.")
        return record

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        request.current_app = self.admin_site.name
        object_id = unquote(object_id)
        record = self._history_record(object_id, version_id)
        current = self.get_object(request, object_id)  # None once the object is deleted
        subject = current if current is not None else record.instance
        if not self.has_view_history_or_change_history_permission(request, subject):
            raise PermissionDenied
        may_revert = self.may_revert(request, current)
        if request.method == "POST":
            if not may_revert:
                raise PermissionDenied
            return self._revert(request, current, record)
        return self._render_version(request, current, record, may_revert, extra_context)

    def _revert(self, request, current, record):
        try:
            plan = apply_revert(self, request, current, record)
        except ValidationError as error:
            self.message_user(
                request, "Not reverted: " + " ".join(error.messages), level=messages.ERROR
            )
            return HttpResponseRedirect(request.path)
        obj = self.get_object(request, str(current.pk)) or current
        if plan.changes:
            restored = join_names(plan.labels(plan.changes))
            self.log_change(request, obj, plan.reason())
            self.message_user(
                request,
                f'The {plan.noun} "{obj}" was reverted to the version of '
                f"{version_label(record)}: {restored} restored.",
                level=messages.SUCCESS,
            )
        else:
            scope = " in every field that can be reverted" if plan.refused or plan.missing else ""
            self.message_user(
                request,
                f"Nothing to revert: this version matches the current {plan.noun}{scope}.",
                level=messages.INFO,
            )
        for note in (plan.refused_message(), plan.missing_message()):
            if note:
                self.message_user(request, note, level=messages.WARNING)
        opts = self.model._meta
        if plan.changes:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[obj.pk],
            )
            return HttpResponseRedirect(url)
        return HttpResponseRedirect(request.path)

    def _render_version(self, request, current, record, may_revert, extra_context):
        opts = self.model._meta
        version = record.instance
        version._state.adding = False
        basis = current if current is not None else version
        # Shown like Django's view-only change page: every field read-only, with the version's
        # values (a revert never takes values from the request anyway).
        form = self.get_form(request, basis, change=True)(instance=version)
        fieldsets = self.get_fieldsets(request, basis)
        admin_form = helpers.AdminForm(
            form, fieldsets, {}, flatten_fieldsets(fieldsets), model_admin=self
        )
        plan = plan_revert(self, request, current, record) if current is not None else None
        preview = (
            revert_preview(self.model, current, version, plan, may_revert=may_revert)
            if plan is not None
            else []
        )
        url_name = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}"
        pk = current.pk if current is not None else version.pk
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Revert' if may_revert else 'View'} {version}",
            "subtitle": f"Version of {version_label(record)}",
            "adminform": admin_form,
            "object_id": pk,
            "original": version,
            "current_object": current,
            "record": record,
            "version_label": version_label(record),
            "plan": plan,
            "preview": preview,
            "restores": join_names(plan.labels(plan.changes)) if plan and plan.changes else "",
            "is_popup": False,
            "media": mark_safe(self.media + admin_form.media),
            "errors": helpers.AdminErrorList(form, []),
            "app_label": opts.app_label,
            "opts": opts,
            "original_opts": opts,
            "changelist_url": reverse(f"{url_name}_changelist"),
            "change_url": reverse(f"{url_name}_change", args=[pk]) if current else "",
            "history_url": reverse(f"{url_name}_history", args=[pk]),
            "undelete_url": undelete_url(self.model, pk) if current is None else None,
            "revert_disabled": not may_revert,
            "change_history": False,
            "add": False,
            "change": True,
            "has_add_permission": False,
            "has_view_permission": True,
            "has_change_permission": may_revert,
            "has_delete_permission": False,
            "has_editable_inline_admin_formsets": False,
            "has_file_field": False,
            "has_absolute_url": False,
            "form_url": "",
            "save_as": False,
            "save_on_top": False,
            "show_save": False,
            "content_type_id": self.content_type_model_cls.objects.get_for_model(self.model).id,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return render(request, self.object_history_form_template, context)
