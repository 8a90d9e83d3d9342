"""The one ModelAdmin base class every Stockroom admin uses.

It composes unfold's look, simple-history's history pages, django-import-export's
import/export views (with unfold's forms) and django-guardian's object-permission
pages. Subclasses configure lists, filters, inlines and actions only.
"""

from guardian.admin import GuardedModelAdminMixin
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.import_export.forms import ExportForm, ImportForm


class StockroomModelAdmin(
    SimpleHistoryAdmin, GuardedModelAdminMixin, ImportExportMixin, ModelAdmin
):
    """Unfold + simple-history + import-export + guardian, with large-table defaults."""

    import_form_class = ImportForm
    export_form_class = ExportForm
    # COUNT(*) over a big table dominates changelist time; show "more" instead.
    show_full_result_count = False
    list_per_page = 50
    list_filter_submit = True
    warn_unsaved_form = True
    compressed_fields = True
