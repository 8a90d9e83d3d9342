"""Manufacturer part and supplier part admins (supplier parts with their price breaks)."""

from django.contrib import admin
from unfold.contrib.filters.admin import AutocompleteSelectFilter
from unfold.decorators import display

from admin_customisations.base import StockroomModelAdmin
from inventory.services.common import fmt
from orders.admin.sourcing_inlines import (
    ManufacturerPartForm,
    SupplierPartForm,
    SupplierPriceBreakInline,
)
from orders.models import ManufacturerPart, SupplierPart
from orders.selectors.companies import supplier_parts_with_on_order


def part_label(part) -> str:
    return f"{part.ipn} | {part.name}" if part.ipn else part.name


@admin.register(ManufacturerPart)
class ManufacturerPartAdmin(StockroomModelAdmin):
    form = ManufacturerPartForm
    list_display = ["mpn", "manufacturer", "part_display", "description"]
    list_select_related = ["manufacturer", "part"]
    list_filter = [("manufacturer", AutocompleteSelectFilter)]
    search_fields = ["mpn", "description", "manufacturer__name", "part__name", "part__ipn"]
    search_help_text = "MPN, description, manufacturer, part name or IPN"
    autocomplete_fields = ["part", "manufacturer"]
    fields = ["part", "manufacturer", "mpn", "description", "link"]

    @display(description="part", ordering="part__name")
    def part_display(self, manufacturer_part):
        return part_label(manufacturer_part.part)


@admin.register(SupplierPart)
class SupplierPartAdmin(StockroomModelAdmin):
    form = SupplierPartForm
    list_display = [
        "sku",
        "supplier",
        "part_display",
        "mpn",
        "pack",
        "lead_time_days",
        "prices",
        "on_order_display",
        "active",
    ]
    list_select_related = ["supplier", "part", "manufacturer_part__manufacturer"]
    list_filter = ["active", ("supplier", AutocompleteSelectFilter)]
    search_fields = [
        "sku",
        "description",
        "supplier__name",
        "part__name",
        "part__ipn",
        "manufacturer_part__mpn",
    ]
    search_help_text = "SKU, description, supplier, part name or IPN, MPN"
    autocomplete_fields = ["part", "supplier", "manufacturer_part"]
    inlines = [SupplierPriceBreakInline]
    fieldsets = [
        (None, {"fields": ["part", "supplier", "sku", "manufacturer_part", "description"]}),
        ("Buying", {"fields": ["pack_quantity", "lead_time_days", "link", "active"]}),
    ]

    def get_queryset(self, request):
        return supplier_parts_with_on_order(super().get_queryset(request))

    @display(description="part", ordering="part__name")
    def part_display(self, supplier_part):
        return part_label(supplier_part.part)

    @display(description="MPN", ordering="manufacturer_part__mpn")
    def mpn(self, supplier_part):
        return str(supplier_part.manufacturer_part) if supplier_part.manufacturer_part_id else "–"

    @display(description="pack", ordering="pack_quantity")
    def pack(self, supplier_part):
        units = supplier_part.part.units
        return f"{fmt(supplier_part.pack_quantity)}{' ' + units if units else ''}"

    @display(description="price breaks (packs: unit price)")
    def prices(self, supplier_part):
        breaks = sorted(supplier_part.price_breaks.all(), key=lambda b: b.quantity)
        if not breaks:
            return "–"
        return " · ".join(f"{fmt(b.quantity)}+: {fmt(b.price)} {b.currency}" for b in breaks)

    @display(description="on order (packs)", ordering="on_order")
    def on_order_display(self, supplier_part):
        return fmt(supplier_part.on_order) if supplier_part.on_order else "–"
