"""Spreadsheet resources of cross-app models: the change log's export (never imported)."""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from admin_customisations.history.entries import describe_entries
from admin_customisations.history.models import ChangeLogEntry
from admin_customisations.importing.resource import Column, SheetResource, register


def _model_name(entry) -> str:
    return str(ContentType.objects.get_for_id(entry.content_type_id).name).capitalize()


@register
class ChangeLogResource(SheetResource):
    """The filtered change log as a spreadsheet, with each change's diff in words."""

    model = ChangeLogEntry
    name = "change_log"
    title = "Recent changes"
    permission = "view"
    select_related = ("user",)
    columns = [
        Column(
            "Date",
            render=lambda e: timezone.localtime(e.history_date).replace(tzinfo=None),
            importable=False,
        ),
        Column("User", render=lambda e: e.user.get_username() if e.user else "", importable=False),
        Column("Model", render=_model_name, importable=False),
        Column("Object", "object_repr", importable=False),
        Column("Object id", "object_id", importable=False),
        Column("Change", render=lambda e: e.get_history_type_display(), importable=False),
        Column("Reason", "reason", importable=False),
        Column("Changes", render=lambda e: getattr(e, "summary_text", ""), importable=False),
    ]

    def may_import(self, user) -> bool:
        return False

    def may_export(self, user) -> bool:
        from admin_customisations.history.log_admin import viewable_models

        return bool(user.is_active and user.is_staff and viewable_models(user))

    def queryset(self, user=None):
        from admin_customisations.history.log_admin import visible_entries

        qs = super().queryset(user).order_by("-history_date", "-id")
        return visible_entries(qs, user) if user is not None else qs

    def export_rows(self, queryset, columns=None, chunk_size=2000):
        """Rows in chunks; each chunk's diffs are described together (a fixed number of
        queries per chunk)."""
        chunk = []
        for entry in queryset.iterator(chunk_size=chunk_size):
            chunk.append(entry)
            if len(chunk) == chunk_size:
                yield from self._rows(chunk, columns)
                chunk = []
        if chunk:
            yield from self._rows(chunk, columns)

    def _rows(self, entries, columns):
        details = describe_entries(entries)
        for entry in entries:
            entry.summary_text = details[entry.pk].summary_text(entry)
            yield self.export_row(entry, columns)
