"""Stock location admin: tree navigation, item counts per subtree, move-all action."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.decorators import display

from admin_customisations.actions import ActionForm, form_action
from admin_customisations.memo import cached_per_object
from inventory.admin.pickers import placeable_location_field
from inventory.admin.tree import TreeAdmin
from inventory.models import StockItem, StockLocation
from inventory.permissions import changeable_locations, may_change_location
from inventory.selectors import annotate_location_counts, placeable_locations
from inventory.services.stock import stock_location_delete, stock_location_move_items

ITEMS_SHOWN = 20

# Autocomplete sources (model, field) that choose where stock is put: structural locations
# are refused there (inventory.services.stock, builds.services.build_common.check_location).
PLACEMENT_SOURCES = {
    ("stockitem", "location"),
    ("buildorder", "destination"),
    ("purchaseorder", "destination"),
    ("purchaseorderline", "destination"),
}


class MoveAllItemsForm(ActionForm):
    destination = placeable_location_field(
        help_text="Every in-stock item stored directly in the selected locations moves here.",
    )
    notes = forms.CharField(required=False, max_length=500)


def move_all_items(*, request, queryset, data):
    moved = sum(
        stock_location_move_items(
            location=location,
            destination=data["destination"],
            user=request.user,
            notes=data["notes"],
        )
        for location in queryset
    )
    return f"Moved {moved} stock items to {data['destination']}."


@admin.register(StockLocation)
class StockLocationAdmin(TreeAdmin):
    list_display = [
        "indented_name",
        "description",
        "items_link",
        "children_link",
        "structural",
        "external",
    ]
    list_filter = ["structural", "external", "level"]
    fields = [
        "breadcrumbs",
        "name",
        "description",
        "parent",
        "structural",
        "external",
        "child_links",
        "items_here",
    ]
    readonly_fields = ["breadcrumbs", "child_links", "items_here"]
    count_field = "item_count"
    count_label = "items"
    annotate_counts = staticmethod(annotate_location_counts)
    actions = [
        form_action(
            name="move_all_items",
            description="Move all items to another location",
            form_class=MoveAllItemsForm,
            apply=move_all_items,
        )
    ]

    def get_search_results(self, request, queryset, search_term):
        """Autocomplete for where stock goes (a stock item's location: moving, receiving,
        returning stock; a build's or purchase order's destination) offers only locations the user may put stock
        into: not structural (the services refuse those) and, for stock, owned (stock
        ownership). Other searches (filters, a build's source) see everything."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        source = (request.GET.get("model_name"), request.GET.get("field_name"))
        if source in PLACEMENT_SOURCES:
            queryset = placeable_locations(queryset)
        if source == ("stockitem", "location"):
            queryset = changeable_locations(request.user, queryset)
        return queryset, may_have_duplicates

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_location(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_location(request.user, obj))

    @display(description="stock items (incl. sub-locations)")
    def items_link(self, location):
        url = reverse("admin:inventory_stockitem_changelist")
        return format_html('<a href="{}?location={}">{}</a>', url, location.pk, location.item_count)

    @display(description="stock stored here")
    @cached_per_object
    def items_here(self, location):
        if location is None or location.pk is None:
            return "–"
        items = list(
            StockItem.objects.filter(location=location).select_related("part")[: ITEMS_SHOWN + 1]
        )
        if not items:
            return "No stock items stored directly here."
        rows = format_html_join(
            format_html("<br>"),
            '<a href="{}">{}</a> ({})',
            (
                (
                    reverse("admin:inventory_stockitem_change", args=[i.pk]),
                    str(i),
                    i.get_status_display(),
                )
                for i in items[:ITEMS_SHOWN]
            ),
        )
        more = ""
        if len(items) > ITEMS_SHOWN:
            url = reverse("admin:inventory_stockitem_changelist")
            more = format_html('<br><a href="{}?location={}">All items…</a>', url, location.pk)
        return format_html("{}{}", rows, more)

    def delete_model(self, request, obj):
        stock_location_delete(location=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for location in queryset.order_by("-level"):
            stock_location_delete(location=location, user=request.user)
