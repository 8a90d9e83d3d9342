""" "Recent changes": every historical record of every tracked model in one list.

Read-only for everyone. Each user sees the changes of the models they may view (viewing is
never restricted per object, docs/permissions.md); filters by user, model, change type, date
range and reason; search by the object's name, IPN or reference; export of the filtered log
through the spreadsheet export (``admin_customisations.resources.ChangeLogResource``).
"""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    FieldTextFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display

from admin_customisations.base import JavaScriptCatalogMixin
from admin_customisations.history.changelog import tracked_models
from admin_customisations.history.entries import describe_entries, object_link
from admin_customisations.history.models import ChangeLogEntry
from admin_customisations.history.search import word_search
from admin_customisations.history.undelete import is_undeletable
from admin_customisations.importing.admin import ImportExportAdminMixin
from admin_customisations.jobs.exports import BackgroundExportMixin
from admin_customisations.paginator import IndexOrderChangeList, LargeTablePaginator
from admin_customisations.permissions import user_may

TYPE_BADGES = {"+": "success", "~": "info", "-": "danger"}


def viewable_models(user) -> list:
    """The tracked models whose history ``user`` may see."""
    return [model for model in tracked_models() if user_may(user, "view", model=model)]


def visible_entries(queryset, user):
    """``queryset`` limited to the changes of models ``user`` may view."""
    models = viewable_models(user)
    if len(models) == len(tracked_models()):
        return queryset
    types = ContentType.objects.get_for_models(*models, for_concrete_models=False)
    return queryset.filter(content_type_id__in=[ct.pk for ct in types.values()])


def restorable_models(user) -> frozenset:
    """Models whose deleted objects ``user`` may restore from the log (undelete needs add)."""
    return frozenset(
        model
        for model in tracked_models()
        if is_undeletable(model) and user_may(user, "add", model=model)
    )


class ModelFilter(admin.SimpleListFilter):
    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        models = viewable_models(request.user)
        types = ContentType.objects.get_for_models(*models, for_concrete_models=False)
        choices = [(str(types[m].pk), str(m._meta.verbose_name).capitalize()) for m in models]
        return sorted(choices, key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(content_type_id=int(value))
        return queryset


class ReasonFilter(FieldTextFilter):
    """Reason words (each word of the text starts a word of the reason: "job 4")."""

    title = "reason words"

    def queryset(self, request, queryset):
        value = self.value()
        return word_search(queryset, "reason", value) if value else queryset


class ChangeLogList(IndexOrderChangeList):
    """Loads a page's diffs and object links in one go (``describe_entries``)."""

    def get_results(self, request):
        super().get_results(request)
        entries = list(self.result_list)  # evaluated once: the rows rendered are these
        details = describe_entries(entries)
        self.may_restore = restorable_models(request.user)
        for entry in entries:
            entry.details = details[entry.pk]
            entry.may_restore = self.may_restore


@admin.register(ChangeLogEntry)
class ChangeLogAdmin(
    JavaScriptCatalogMixin, BackgroundExportMixin, ImportExportAdminMixin, ModelAdmin
):
    """Read-only; the spreadsheet export is the base admin's (no history of its own)."""

    show_full_result_count = False
    list_per_page = 50
    list_filter_submit = True
    list_display = ["when", "user_name", "model_name", "object", "change_type", "reason", "changes"]
    list_display_links = None
    list_filter = [
        ("user", RelatedDropdownFilter),
        ModelFilter,
        "history_type",
        ("history_date", RangeDateTimeFilter),
        ("reason", ReasonFilter),
    ]
    search_fields = ["object_repr"]
    search_help_text = "Search by object name, IPN, reference or SKU."
    list_select_related = ["user"]
    paginator = LargeTablePaginator
    ordering = ["-history_date", "-id"]
    sortable_by = ()
    actions = None

    # ------------------------------------------------------------------ permissions
    def has_view_permission(self, request, obj=None):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if obj is not None:
            return obj.content_type.model_class() in viewable_models(user)
        return bool(viewable_models(user))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request, *args, **kwargs):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_sheet_export_permission(self, request, resource) -> bool:
        # the log has no model permission of its own: whoever sees it may export it
        return resource.may_export(request.user)

    def get_search_results(self, request, queryset, search_term):
        """Words of the object's name, IPN or reference as it was (full text, history/search)."""
        if not search_term.strip():
            return queryset, False
        return word_search(queryset, "object_repr", search_term), False

    def get_queryset(self, request):
        return visible_entries(super().get_queryset(request), request.user)

    def get_changelist(self, request, **kwargs):
        return ChangeLogList

    # ------------------------------------------------------------------ columns
    @staticmethod
    def _details(entry):
        return getattr(entry, "details", None)

    @display(description="date")
    def when(self, entry):
        return timezone.localtime(entry.history_date).strftime("%Y-%m-%d %H:%M:%S")

    @display(description="user")
    def user_name(self, entry):
        return entry.user.get_username() if entry.user_id and entry.user else "—"

    @display(description="model")
    def model_name(self, entry):
        return str(ContentType.objects.get_for_id(entry.content_type_id).name).capitalize()

    @display(description="object")
    def object(self, entry):
        details = self._details(entry)
        if details is None:
            return entry.object_repr
        return object_link(entry, details, may_restore=getattr(entry, "may_restore", ()))

    @display(description="change", label=TYPE_BADGES)
    def change_type(self, entry):
        return entry.history_type, entry.get_history_type_display()

    @display(description="changes")
    def changes(self, entry):
        details = self._details(entry)
        if details is None:
            return ""
        return format_html('<div class="history-changes">{}</div>', details.summary_html(entry))
