"""The one ModelAdmin base class every Stockroom admin uses.

It composes unfold's look, simple-history's history pages, Stockroom's spreadsheet
import/export pages (``admin_customisations.importing.admin``: natural keys, all or
nothing, for models with a registered resource) and django-guardian's object-permission
pages. Subclasses configure lists, filters, inlines and actions only.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin

from admin_customisations.history.admin import SafeHistoryAdminMixin
from admin_customisations.importing.admin import ImportExportAdminMixin
from admin_customisations.jobs.exports import BackgroundExportMixin
from admin_customisations.object_permissions import (
    ObjectPermissionsAdminMixin,
    ObjectRulesActionsMixin,
)
from admin_customisations.permissions import user_may
from admin_customisations.service_errors import ServiceErrorsAdminMixin
from inventory.services.actors import acting_as, people


class JavaScriptCatalogMixin:
    """Django's JavaScript catalog (gettext, ngettext, interpolate) ahead of every admin
    script: actions.js, calendar.js and the date shortcuts call it as they load or run.
    Django's change_form/change_list templates load it themselves; every other page showing
    the admin's media (delete, history, action, import and export forms: modeladmin.media +
    form.media) would otherwise throw "gettext is not defined". Every Stockroom admin has it,
    also those not on the base class (change log, inbox, users and groups)."""

    @property
    def media(self):
        return forms.Media(js=[reverse("admin:jsi18n")]) + super().media


class StockroomModelAdmin(
    JavaScriptCatalogMixin,
    ServiceErrorsAdminMixin,  # a service's refusal at save/delete time is a message, not a 500
    ObjectRulesActionsMixin,  # detail actions on one object follow its object rules
    SafeHistoryAdminMixin,  # history version pages: revert needs change permission, via services
    SimpleHistoryAdmin,
    ObjectPermissionsAdminMixin,
    BackgroundExportMixin,  # exports over BULK_JOB_THRESHOLD rows run as jobs
    ImportExportAdminMixin,  # import/export pages for models with a resource
    ModelAdmin,
):
    """Unfold + simple-history + spreadsheet import/export + guardian, large-table defaults."""

    # COUNT(*) over a big table dominates changelist time; show "more" instead.
    show_full_result_count = False
    list_per_page = 50
    list_filter_submit = True
    warn_unsaved_form = True
    compressed_fields = True

    # One permission question (admin_customisations.permissions): the role's model
    # permission combined with the object rules (ownership, responsible party).
    def has_view_permission(self, request, obj=None):
        return user_may(request.user, "view", obj, model=self.model)

    def has_add_permission(self, request, *args, **kwargs):
        return user_may(request.user, "add", model=self.model)

    def has_change_permission(self, request, obj=None):
        return user_may(request.user, "change", obj, model=self.model)

    def has_delete_permission(self, request, obj=None):
        return user_may(request.user, "delete", obj, model=self.model)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The named system actors ("[scheduler]", …) are no one to pick as a person.
        if db_field.related_model is get_user_model() and "queryset" not in kwargs:
            kwargs["queryset"] = people()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj._change_reason = admin_change_reason(form, change)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        obj._change_reason = "Deleted in the admin"
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected": every record written (cascades included) carries the reason.
        with acting_as(request.user, reason="Deleted in the admin (delete selected)"):
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            if inline_form.has_changed():
                adding = inline_form.instance.pk is None
                inline_form.instance._change_reason = admin_change_reason(inline_form, not adding)
        for obj in getattr(formset, "deleted_objects", []) or []:
            obj._change_reason = "Deleted in the admin"
        super().save_formset(request, form, formset, change)


class ResponsibleAdminMixin:
    """For orders and builds: with ORDERS_RESPONSIBLE_ONLY, people who are not responsible
    for an object see it read-only. The rule itself is applied by StockroomModelAdmin's
    permission methods (admin_customisations.permissions, which asks
    inventory.responsibility); this marker stays so the order and build admins read as such."""


def admin_change_reason(form, change: bool) -> str:
    """History reason for an admin save: which fields a person changed."""
    if not change:
        return "Created in the admin"
    changed = [form.fields[name].label or name for name in form.changed_data if name in form.fields]
    return "Changed in the admin: " + (", ".join(str(c) for c in changed) or "no field changes")
