"""Stock tracking entries: read-only; written only by the stock services."""

from django.contrib import admin
from unfold.decorators import display

from admin_customisations.base import StockroomModelAdmin
from inventory.admin.timeline import describe_deltas
from inventory.models import StockItemTracking


@admin.register(StockItemTracking)
class StockItemTrackingAdmin(StockroomModelAdmin):
    list_display = ["date", "item", "tracking_type", "details", "user", "notes"]
    list_select_related = ["item__part", "user"]
    list_filter = ["tracking_type", "date"]
    search_fields = ["item__part__name", "item__part__ipn", "item__serial", "notes"]
    date_hierarchy = "date"
    readonly_fields = ["item", "tracking_type", "date", "user", "notes", "details"]
    fields = readonly_fields
    include_object_permissions_urls = False  # read-only: nothing to grant per entry

    @display(description="details")
    def details(self, entry):
        return describe_deltas(entry.deltas or {})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
