"""Stock item admin: list, filters, create-through-service, timeline, actions."""

import functools

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.contrib.filters.admin import RadioFilter
from unfold.decorators import display
from unfold.utils import display_for_label

from admin_customisations.actions import dry_run
from admin_customisations.base import StockroomModelAdmin
from admin_customisations.paginator import (
    IndexOrderChangeList,
    LargeTablePaginator,
    action_checkbox_html,
)
from admin_customisations.pickers import PickerEndpointMixin
from inventory.admin.filters import (
    ExpiredFilter,
    ExpiresWithinFilter,
    InStockFilter,
    LocationSubtreeFilter,
    SerializedFilter,
    StockPartCategorySubtreeFilter,
)
from inventory.admin.list_cells import path_cell
from inventory.admin.stock_actions import (
    STOCK_ACTIONS,
    STOCK_DETAIL_LAYOUT,
    offered_stock_detail_actions,
    stock_detail_action,
)
from inventory.admin.timeline import render_timeline
from inventory.choices import STOCK_STATUS_COLOURS
from inventory.models import StockItem
from inventory.models.stock import StockItemState
from inventory.permissions import may_change_stock_item
from inventory.search import stock_item_search_q
from inventory.services.common import check_item_changeable, describe_state, fmt
from inventory.services.stock import stock_item_create, stock_item_delete
from inventory.services.stock_edits import EDITABLE_FIELDS, stock_item_update

STATUS_LABELS = {status.label: colour for status, colour in STOCK_STATUS_COLOURS.items()}


@functools.cache
def status_badge_html(text: str, language: str):
    return display_for_label(text, "–", STATUS_LABELS)


CREATE_FIELDS = [
    "part",
    "quantity",
    "location",
    "serials",
    "batch",
    "status",
    "expiry_date",
    "purchase_price",
    "purchase_price_currency",
    "notes",
    "delete_on_deplete",
]


class StockItemCreateForm(forms.ModelForm):
    """Creating stock goes through ``stock_item_create`` (tracking, serials, defaults)."""

    serials = forms.CharField(
        required=False,
        max_length=5000,
        help_text="For trackable parts: one item per serial, e.g. 1-10, 15, 20+. The count must equal the quantity.",
    )

    class Meta:
        model = StockItem
        fields = [f for f in CREATE_FIELDS if f != "serials"]

    def service_kwargs(self, user) -> dict:
        data = self.cleaned_data
        kwargs = {f: data.get(f) for f in CREATE_FIELDS if f not in {"part", "quantity"}}
        kwargs["serials"] = data.get("serials") or ""
        kwargs["purchase_price_currency"] = data.get("purchase_price_currency") or ""
        return {"part": data["part"], "quantity": data["quantity"], "user": user, **kwargs}

    def _post_clean(self):
        # Validation is the service's (dry run in clean()); the model instance is not saved from this form.
        pass

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("part") and data.get("quantity") is not None:
            dry_run(self, lambda: stock_item_create(**self.service_kwargs(self.user)))
        return data


class StockItemChangeForm(forms.ModelForm):
    """Editing an item's descriptive fields; refused for items that left our stock (the same
    rule as the services, so a forged POST shows the reason instead of saving)."""

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            dry_run(self, lambda: check_item_changeable(self.instance, "edit"))
        return data


class StockStateFilter(RadioFilter):
    """Items that left our stock (consumed, installed, shipped, with a customer) are hidden
    unless asked for; "in stock" is StockItemQuerySet.in_stock."""

    title = "state"
    parameter_name = "state"
    all_option = ["", "Held here (not consumed, installed, shipped or with a customer)"]

    def lookups(self, request, model_admin):
        return [
            ("in_stock", "In stock"),
            *((state.value, state.label.capitalize()) for state in StockItemState),
            ("all", "All"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        if value == "in_stock":
            return queryset.in_stock()
        if value in StockItemState.values:
            return in_state_for_list(queryset, value)
        return queryset.held()


SPARSE_STATE_IDS = 1000


def in_state_for_list(queryset, state):
    """``queryset.in_state(state)`` for a list ordered newest first.

    Few items are in a state on most databases (a handful consumed or shipped among a
    million), and SQLite's planner, without statistics, walks the primary key backwards
    through every row to find them. Their ids come first from the state field's index (one
    query, at most ``SPARSE_STATE_IDS``); when there are more, they are dense enough for
    that walk.
    """
    ids = list(
        queryset.in_state(state).order_by().values_list("pk", flat=True)[: SPARSE_STATE_IDS + 1]
    )
    if len(ids) <= SPARSE_STATE_IDS:
        return queryset.filter(pk__in=ids)
    return queryset.in_state(state)


@admin.register(StockItem)
class StockItemAdmin(PickerEndpointMixin, StockroomModelAdmin):
    list_display = [
        "part_link",
        "quantity_display",
        "location_path",
        "serial",
        "batch",
        "status_badge",
        "expiry_date",
    ]
    list_display_links = ["quantity_display"]
    # parts and locations of a page are fetched by id (prefetch in get_queryset): a join
    # lets SQLite's planner start from the part table and sort every row
    list_select_related = False
    list_filter = [
        StockStateFilter,
        LocationSubtreeFilter,
        StockPartCategorySubtreeFilter,
        "status",
        InStockFilter,
        ExpiredFilter,
        ExpiresWithinFilter,
        SerializedFilter,
    ]
    # get_search_results searches (exact serial, batch / IPN prefix: inventory.search)
    search_fields = ["serial", "batch", "part__ipn"]
    search_help_text = "Serial number (exact), batch code or part IPN (beginning with)"
    # newest first; every sortable column has an index on (column, id) (models/stock.py)
    ordering = ["-pk"]
    paginator = LargeTablePaginator

    def get_urls(self):
        from django.urls import path

        from inventory.admin.stock_as_of import stock_as_of_view

        view = self.admin_site.admin_view(functools.partial(stock_as_of_view, self))
        return [path("as-of/", view, name="inventory_stockitem_as_of"), *super().get_urls()]

    def get_changelist(self, request, **kwargs):
        return IndexOrderChangeList

    autocomplete_fields = ["part", "location", "customer", "belongs_to"]
    actions = STOCK_ACTIONS
    # the item page's buttons: the list actions' forms and services, for this item
    actions_detail = STOCK_DETAIL_LAYOUT
    detail_move_stock = stock_detail_action("move_stock")
    detail_count_stock = stock_detail_action("count_stock")
    detail_add_stock = stock_detail_action("add_stock")
    detail_remove_stock = stock_detail_action("remove_stock")
    detail_split_stock = stock_detail_action("split_stock")
    detail_serialize_stock = stock_detail_action("serialize_stock")
    detail_change_status = stock_detail_action("change_status")
    detail_assign_to_customer = stock_detail_action("assign_to_customer")
    detail_return_from_customer = stock_detail_action("return_from_customer")
    detail_install_into = stock_detail_action("install_into")
    detail_uninstall = stock_detail_action("uninstall")
    readonly_fields = [
        "left_stock",
        "part",
        "quantity_display",
        "location",
        "serial",
        "status",
        "customer",
        "belongs_to",
        "parent",
        "is_building",
        "stocktake_date",
        "stocktake_user",
        "created_at",
        "updated",
        "timeline",
    ]
    fieldsets = [
        (None, {"fields": ["part", "quantity_display", "location", "serial", "status"]}),
        ("Details", {"fields": list(EDITABLE_FIELDS)}),
        ("Where it is", {"fields": ["customer", "belongs_to", "parent", "is_building"]}),
        ("Stocktake", {"fields": ["stocktake_date", "stocktake_user", "created_at", "updated"]}),
        ("Timeline", {"fields": ["timeline"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StockItemCreateForm
            kwargs["fields"] = [f for f in CREATE_FIELDS if f != "serials"]
            form = super().get_form(request, obj, change=change, **kwargs)
            form.user = request.user
            return form
        kwargs["form"] = StockItemChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": CREATE_FIELDS})]
        if obj.state is not None:
            return [("Left stock", {"fields": ["left_stock"]}), *self.fieldsets]
        return self.fieldsets

    def has_change_permission(self, request, obj=None):
        if obj is not None and not isinstance(obj, StockItem):
            # the object id (unfold's detail actions): the item, loaded once per request
            obj = self.object_for_rules(request, obj) or obj
        allowed = super().has_change_permission(request, obj)
        return allowed and (
            not isinstance(obj, StockItem) or may_change_stock_item(request.user, obj)
        )

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        if not actions:
            return actions
        return offered_stock_detail_actions(actions, self.object_for_rules(request, object_id))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        # items that left our stock cannot be deleted (stock_item_delete refuses them too)
        return allowed and (
            obj is None or (obj.state is None and may_change_stock_item(request.user, obj))
        )

    def get_queryset(self, request):
        # str(item) shows the part: the list, the autocomplete ("installed in") and the change
        # page fetch the page's parts and locations in one query each
        return super().get_queryset(request).prefetch_related("part", "location")

    def get_search_results(self, request, queryset, search_term):
        """One index-served condition (inventory.search.stock_item_search_q), no LIKE '%x%'."""
        if not search_term.strip():
            return queryset, False
        return queryset.filter(stock_item_search_q(search_term)), False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.state is not None:  # nothing on the form may change (check_item_changeable)
            return [*self.readonly_fields, *EDITABLE_FIELDS]
        return self.readonly_fields

    def delete_model(self, request, obj):
        stock_item_delete(item=obj, user=request.user, reason="Deleted in the admin")

    def delete_queryset(self, request, queryset):
        for item in queryset.order_by("pk"):
            stock_item_delete(item=item, user=request.user, reason="Deleted in the admin")

    def save_model(self, request, obj, form, change):
        if change:
            stock_item_update(
                item=obj,
                user=request.user,
                **{f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.cleaned_data},
            )
            return
        created = stock_item_create(**form.service_kwargs(request.user))
        obj.pk = created[0].pk
        obj.__dict__.update(created[0].__dict__)
        if len(created) > 1:
            self.message_user(request, f"Created {len(created)} serialized items.")

    @display(description=UnfoldModelAdmin.action_checkbox.short_description)
    def action_checkbox(self, item):
        # unfold's, without rendering the checkbox template for every row
        return action_checkbox_html(item.pk)

    # not sortable: ordering by a joined column sorts every row (filter by category or search)
    @display(description="part")
    def part_link(self, item):
        return f"{item.part.ipn} | {item.part.name}" if item.part.ipn else item.part.name

    @display(description="quantity", ordering="quantity")
    def quantity_display(self, item):
        return f"#{item.serial}" if item.is_serialized else fmt(item.quantity)

    @display(description="location")
    def location_path(self, item):
        return path_cell(item.location.pathstring if item.location_id else "")

    @display(description="status", ordering="status")
    def status_badge(self, item):
        # unfold's label badge (display(label=...)), rendered once per status and language
        return status_badge_html(item.get_status_display(), get_language() or "")

    @display(description="where it went")
    def left_stock(self, item):
        """What consumed, installed, shipped it or who has it, with links."""
        if item is None or item.state is None:
            return "–"
        state = item.state
        if state == StockItemState.CONSUMED:
            target = ("builds_buildorder", item.consumed_by_id, item.consumed_by.reference)
        elif state == StockItemState.SHIPPED:
            target = ("orders_salesorder", item.sales_order_id, item.sales_order.reference)
        elif state == StockItemState.INSTALLED:
            target = ("inventory_stockitem", item.belongs_to_id, str(item.belongs_to))
        else:
            target = ("orders_company", item.customer_id, item.customer.name)
        url = reverse(f"admin:{target[0]}_change", args=[target[1]])
        return format_html(
            '<strong>This item {}.</strong> See <a href="{}">{}</a>. It can no longer be changed{}.',
            describe_state(item),
            url,
            target[2],
            {
                StockItemState.SHIPPED: " except by returning it from the customer",
                StockItemState.WITH_CUSTOMER: " except by returning it from the customer",
                StockItemState.INSTALLED: " except by uninstalling it",
            }.get(state, ""),
        )

    @display(description="timeline (newest first)")
    def timeline(self, item):
        if item is None or item.pk is None:
            return "–"
        return format_html("{}", render_timeline(item))
