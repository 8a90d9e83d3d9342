"""Part admin: list with stock figures, filters, parameters inline, stock summary."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import TabularInline
from unfold.decorators import display

from admin_customisations.base import StockroomModelAdmin
from inventory.admin.filters import HasStockFilter, LowStockFilter, PartCategorySubtreeFilter
from inventory.models import Part, PartParameter, StockItem
from inventory.selectors import parts_with_stock
from inventory.services.common import fmt

FLAGS = ["assembly", "component", "trackable", "purchaseable", "salable", "virtual", "is_template"]


class PartParameterInline(TabularInline):
    model = PartParameter
    fields = ["template", "data"]
    autocomplete_fields = ["template"]
    extra = 0
    tab = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("template", "part")

    # A locked part's parameters are frozen: no adding, editing or deleting rows.
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.locked)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.locked)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.locked)


@admin.register(Part)
class PartAdmin(StockroomModelAdmin):
    list_display = ["ipn", "name", "revision", "category_path", "flags", "stock_figure", "active"]
    list_display_links = ["ipn", "name"]
    list_select_related = ["category"]
    list_filter = [
        PartCategorySubtreeFilter,
        LowStockFilter,
        HasStockFilter,
        "active",
        *FLAGS,
        "locked",
    ]
    search_fields = ["name", "ipn", "keywords", "description"]
    autocomplete_fields = ["category", "variant_of", "revision_of", "default_location"]
    readonly_fields = ["stock_summary", "created_at", "created_by"]
    inlines = [PartParameterInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "ipn",
                    "revision",
                    "revision_of",
                    "description",
                    "keywords",
                    "category",
                    "link",
                ]
            },
        ),
        (
            "Stock",
            {
                "fields": [
                    "stock_summary",
                    "units",
                    "minimum_stock",
                    "default_location",
                    "default_expiry",
                ]
            },
        ),
        ("Type", {"fields": [*FLAGS, "variant_of", "active", "locked"]}),
        ("Notes", {"fields": ["notes", "created_at", "created_by"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return parts_with_stock(super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @display(description="category", ordering="category__pathstring")
    def category_path(self, part):
        return part.category.pathstring if part.category_id else "–"

    @display(description="type")
    def flags(self, part):
        names = [f.replace("is_", "") for f in FLAGS if getattr(part, f)]
        return ", ".join(names) or "–"

    @display(
        description="in stock",
        ordering="in_stock",
        label={"low": "danger", "ok": "success", "none": "info"},
    )
    def stock_figure(self, part):
        text = f"{fmt(part.in_stock)}{(' ' + part.units) if part.units else ''}"
        if part.low_stock:
            return "low", f"{text} (low)"
        return ("ok" if part.in_stock else "none"), text

    @display(description="stock")
    def stock_summary(self, part):
        if part is None or part.pk is None:
            return "–"
        items = StockItem.objects.filter(part=part)
        in_stock = items.in_stock()
        total = sum(i.quantity for i in in_stock.only("quantity"))
        url = reverse("admin:inventory_stockitem_changelist")
        return format_html(
            '{} in stock in {} items (<a href="{}?part__id__exact={}">all {} stock items</a>)',
            fmt(total),
            in_stock.count(),
            url,
            part.pk,
            items.count(),
        )
