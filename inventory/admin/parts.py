"""Part admin: list with stock figures, filters, parameters inline, stock summary;
for assemblies the BOM inline, BOM page and BOM actions (builds/admin/bom_part.py); the
page's lazy tabs: stock, allocations, orders, builds, where used, history
(inventory/admin/part_tabs.py)."""

import copy
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import Count, Sum
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.admin import TabularInline
from unfold.decorators import display

from admin_customisations.actions import dry_run
from admin_customisations.base import StockroomModelAdmin
from admin_customisations.memo import cached_per_object
from admin_customisations.paginator import IndexOrderChangeList
from admin_customisations.tabs import ObjectTabsMixin
from builds.admin.bom_part import (
    PART_BOM_ACTIONS,
    BomItemInline,
    annotate_bom_overview,
    bom_page,
    bom_status_text,
    bom_summary_html,
)
from builds.services.bom import bom_propagate_trackable
from inventory.admin.filters import HasStockFilter, LowStockFilter, PartCategorySubtreeFilter
from inventory.admin.list_cells import figure_cell, flag_chips, label, path_cell
from inventory.admin.parameters import PartParameterForm
from inventory.admin.part_actions import PART_ACTIONS
from inventory.admin.part_tabs import part_tabs
from inventory.admin.subscription_actions import PART_SUBSCRIPTION_ACTIONS
from inventory.models import Part, PartParameter, StockItem
from inventory.search import part_autocomplete_q, part_search_q
from inventory.selectors import annotate_part_figures
from inventory.services.common import fmt
from orders.admin.sourcing_inlines import PartManufacturerPartInline, PartSupplierPartInline

FLAGS = ["assembly", "component", "trackable", "purchaseable", "salable", "virtual", "is_template"]


class PartParameterInline(TabularInline):
    model = PartParameter
    form = PartParameterForm  # values of parameters with choices: a select
    fields = ["template", "data"]
    autocomplete_fields = ["template"]
    extra = 0
    tab = True
    verbose_name_plural = "Parameters"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("template", "part")

    # A locked part's parameters are frozen: no adding, editing or deleting rows.
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.locked)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.locked)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.locked)


class PartAdminForm(forms.ModelForm):
    """Ticking "trackable" makes the assemblies using the part trackable (R7): refused,
    with the reason on the form, when one of them cannot be (a virtual assembly)."""

    class Meta:
        model = Part
        fields = ["trackable"]  # the admin passes the fieldsets' fields

    def clean(self):
        data = super().clean()
        if self.instance.pk and data.get("trackable") and "trackable" in self.changed_data:
            probe = copy.copy(self.instance)
            probe.trackable = True
            dry_run(self, lambda: bom_propagate_trackable(part=probe, user=None))
        return data


# sortable columns indexed as (column, -id) (Part.Meta.indexes): ties newest first when
# the column ascends, so the index is read forwards for one direction, backwards for the other
DESCENDING_ID_INDEXED = {"revision", "active", "in_stock_total"}


class PartChangeList(IndexOrderChangeList):
    """A clicked column replaces the default ordering instead of being followed by it.

    Django orders a click on "revision" by ``revision, name, revision, pk`` (the clicked
    column, then the queryset's default ``name, revision, pk``): the ``(revision, -id)``
    index serves the first column only and every part sharing a revision (nearly all) is
    sorted. Here it is ``revision, -pk`` (``-revision, pk``), the index read forwards or
    backwards; a click on name keeps ``name, revision, pk`` in the clicked direction
    (part_list_order_idx), any other column gets IndexOrderChangeList's tie-breaker."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR not in self.params:
            return super().get_ordering(request, queryset)
        ordering = super().get_ordering(request, queryset.order_by())
        core = [field for field in ordering if field not in ("pk", "-pk")]
        if len(core) != 1 or not isinstance(core[0], str):
            return ordering
        column = core[0].removeprefix("-")
        descending = core[0].startswith("-")
        default = list(self.model_admin.ordering)
        if column == default[0]:
            return [f"-{field}" if descending else field for field in default]
        if column in DESCENDING_ID_INDEXED:
            return [core[0], "pk" if descending else "-pk"]
        return ordering


@admin.register(Part)
class PartAdmin(ObjectTabsMixin, StockroomModelAdmin):
    form = PartAdminForm
    # fits 1,440 px (docs/stock.md "List layout"): available and on order are notes under
    # the stock badge, the type flags short chips, the category path wraps at its "/"
    list_display = [
        "ipn",
        "name",
        "revision",
        "category_path",
        "flags",
        "stock_figure",
        "bom_status",
        "active",
    ]
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
    # total ordering served by part_list_order_idx (no "-pk" tie-breaker added)
    ordering = ["name", "revision", "pk"]
    autocomplete_fields = ["category", "variant_of", "revision_of", "default_location"]
    readonly_fields = ["stock_summary", "bom_summary", "created_at", "created_by"]
    inlines = [
        PartParameterInline,
        BomItemInline,
        PartSupplierPartInline,
        PartManufacturerPartInline,
    ]
    actions = [*PART_ACTIONS, *PART_BOM_ACTIONS, *PART_SUBSCRIPTION_ACTIONS]
    # lazy, paginated tabs beside the inline tabs: stock, allocations, orders, builds,
    # where used, history (inventory/admin/part_tabs.py, admin_customisations/tabs.py)
    object_tabs = part_tabs()
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

    def get_search_results(self, request, queryset, search_term):
        """Autocomplete (every part widget): case-insensitive prefix of IPN or name, on their
        lower() indexes. The list: IPN prefix, or each word as a word prefix in name,
        description or keywords (full text; inventory/search.py, docs/performance.md)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if request.path == reverse("admin:autocomplete"):
            return queryset.filter(part_autocomplete_q(term)), False
        # the ids from the IPN and full-text indexes first, then the rows (part_search_q)
        return queryset.filter(part_search_q(term)), False

    def get_urls(self):
        bom = path(
            "<path:object_id>/bom/",
            self.admin_site.admin_view(
                lambda request, object_id: bom_page(self, request, object_id)
            ),
            name="inventory_part_bom",
        )
        return [bom, *super().get_urls()]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.assembly:
            fieldsets.insert(2, ("Bill of materials", {"fields": ["bom_summary"]}))
        return fieldsets

    def get_inline_instances(self, request, obj=None):
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if not isinstance(inline, BomItemInline) or (obj is not None and obj.assembly)
        ]

    def get_changelist(self, request, **kwargs):
        return PartChangeList

    def get_changelist_instance(self, request):
        # Figures only for the rows on the page, a fixed number of grouped queries (the
        # queryset itself stays plain, so counting, sorting and autocomplete stay cheap).
        changelist = super().get_changelist_instance(request)
        annotate_part_figures(changelist.result_list)
        annotate_bom_overview(changelist.result_list)
        return changelist

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if change and obj.trackable and "trackable" in form.changed_data:
            bom_propagate_trackable(part=obj, user=request.user)

    def save_formset(self, request, form, formset, change):
        if hasattr(formset, "save_through_services"):
            formset.save_through_services(request.user)
        else:
            super().save_formset(request, form, formset, change)

    # not sortable: ordering 100k parts by a joined column sorts them all (filter instead)
    @display(description="category")
    def category_path(self, part):
        return path_cell(part.category.pathstring if part.category_id else "")

    @display(description="type")
    def flags(self, part):
        return flag_chips(part)

    @display(description="stock", ordering="in_stock_total")
    def stock_figure(self, part):
        """In stock (a badge: red when below the minimum), then what is available of it
        (when some is allocated) and what is on order."""
        text = f"{fmt(part.in_stock)}{(' ' + part.units) if part.units else ''}"
        if part.low_stock:
            badge = label(f"{text} (low)", "danger")
        else:
            badge = label(text, "success" if part.in_stock else "info")
        notes = []
        if part.allocated and part.in_stock:
            notes.append(f"{fmt(part.available)} available")
        if part.on_order:
            notes.append(f"{fmt(part.on_order)} on order")
        return figure_cell(badge, notes)

    @display(description="BOM")
    def bom_status(self, part):
        status = bom_status_text(part)
        if status is None:
            return "–"
        kind, text, note = status
        return figure_cell(label(text, kind), [note] if note else [])

    @display(description="bill of materials")
    @cached_per_object
    def bom_summary(self, part):
        return bom_summary_html(part)

    @display(description="stock")
    @cached_per_object
    def stock_summary(self, part):
        if part is None or part.pk is None:
            return "–"
        items = StockItem.objects.filter(part=part)
        figures = items.in_stock().aggregate(total=Sum("quantity"), count=Count("pk"))
        url = reverse("admin:inventory_stockitem_changelist")
        return format_html(
            '{} in stock in {} items (<a href="{}?part__id__exact={}">all {} stock items</a>)',
            fmt(figures["total"] or Decimal(0)),
            figures["count"],
            url,
            part.pk,
            items.count(),
        )
