"""The stock item admin's actions: one intermediate form per stock service."""

from django import forms
from django.core.exceptions import ValidationError

from admin_customisations.actions import ActionForm, autocomplete, form_action, per_item
from inventory.choices import StockStatus
from inventory.models import StockItem, StockLocation
from inventory.services import stock as services
from inventory.services.common import fmt
from orders.models import Company

QUANTITY = {"max_digits": 15, "decimal_places": 5, "min_value": 0}


def _location_field(required=True, help_text=""):
    return forms.ModelChoiceField(
        StockLocation.objects.all(),
        required=required,
        widget=autocomplete(StockItem, "location"),
        help_text=help_text,
    )


def _notes():
    return forms.CharField(
        required=False, max_length=500, help_text="Recorded in each item's timeline."
    )


class QuantityForm(ActionForm):
    quantity = forms.DecimalField(**QUANTITY)
    notes = _notes()


class CountForm(ActionForm):
    quantity = forms.DecimalField(**QUANTITY, label="Counted quantity")
    status = forms.TypedChoiceField(
        choices=[("", "Keep current status"), *StockStatus.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    notes = _notes()


class MoveForm(ActionForm):
    location = _location_field()
    quantity = forms.DecimalField(
        **QUANTITY,
        required=False,
        help_text="Leave empty to move whole items; a smaller quantity is split off and moved.",
    )
    notes = _notes()


class SplitForm(ActionForm):
    quantity = forms.DecimalField(**QUANTITY, help_text="Quantity to split off each selected item.")
    location = _location_field(
        required=False, help_text="Where the split-off stock goes (default: same place)."
    )
    notes = _notes()


class MergeForm(ActionForm):
    location = _location_field(
        required=False, help_text="Where the merged item will be (default: the first item's)."
    )
    notes = _notes()

    def clean_selection(self, queryset):
        if queryset.count() < 2:
            raise ValidationError("Select at least two stock items to merge.")


class SerializeForm(ActionForm):
    quantity = forms.IntegerField(min_value=1, help_text="How many units get serial numbers.")
    serials = forms.CharField(
        max_length=5000,
        help_text="E.g. 1-10, 15, 20+ (20 onwards as needed) or ~ (next free number).",
    )
    location = _location_field(
        required=False, help_text="Where the serialized items go (default: same place)."
    )
    notes = _notes()


class StatusForm(ActionForm):
    status = forms.TypedChoiceField(choices=StockStatus.choices, coerce=int)
    notes = _notes()


class CustomerForm(ActionForm):
    customer = forms.ModelChoiceField(
        Company.objects.filter(is_customer=True), widget=autocomplete(StockItem, "customer")
    )
    quantity = forms.DecimalField(
        **QUANTITY, required=False, help_text="Leave empty to send whole items."
    )
    notes = _notes()


class ReturnForm(ActionForm):
    location = _location_field(help_text="Where the returned stock goes.")
    notes = _notes()


class InstallForm(ActionForm):
    into = forms.ModelChoiceField(
        StockItem.objects.all(),
        widget=autocomplete(StockItem, "belongs_to"),
        label="Install into",
        help_text="The assembly item the selected items are installed in.",
    )
    quantity = forms.DecimalField(
        **QUANTITY, required=False, help_text="Leave empty to install whole items."
    )
    notes = _notes()


def _each(service, verb, queryset, **kwargs):
    run = per_item(service, verb=verb)
    items = list(queryset.select_related("part", "location"))
    for item in items:
        run(item, **kwargs)
    return len(items)


def _plural(n, word="item"):
    return f"{n} stock {word}{'' if n == 1 else 's'}"


def apply_add(*, request, queryset, data):
    n = _each(
        services.stock_item_add,
        "add",
        queryset,
        quantity=data["quantity"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Added {fmt(data['quantity'])} to {_plural(n)}."


def apply_remove(*, request, queryset, data):
    n = _each(
        services.stock_item_remove,
        "remove",
        queryset,
        quantity=data["quantity"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Removed {fmt(data['quantity'])} from {_plural(n)}."


def apply_count(*, request, queryset, data):
    n = _each(
        services.stock_item_count,
        "count",
        queryset,
        quantity=data["quantity"],
        status=data["status"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Counted {_plural(n)}: {fmt(data['quantity'])} each."


def apply_move(*, request, queryset, data):
    n = _each(
        services.stock_item_move,
        "move",
        queryset,
        location=data["location"],
        quantity=data["quantity"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Moved {_plural(n)} to {data['location']}."


def apply_split(*, request, queryset, data):
    n = _each(
        services.stock_item_split,
        "split",
        queryset,
        quantity=data["quantity"],
        location=data["location"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Split {fmt(data['quantity'])} off {_plural(n)}."


def apply_merge(*, request, queryset, data):
    items = list(queryset.order_by("pk"))
    target = services.stock_items_merge(
        items=items, location=data["location"], user=request.user, notes=data["notes"]
    )
    return f"Merged {len(items)} items into {target} (item {target.pk})."


def apply_serialize(*, request, queryset, data):
    item = queryset.get()
    created = services.stock_item_serialize(
        item=item,
        quantity=data["quantity"],
        serials=data["serials"],
        location=data["location"],
        user=request.user,
        notes=data["notes"],
    )
    shown = ", ".join(i.serial for i in created[:10]) + (" …" if len(created) > 10 else "")
    return f"Created {len(created)} serialized items: {shown}."


def apply_status(*, request, queryset, data):
    n = _each(
        services.stock_item_change_status,
        "status",
        queryset,
        status=data["status"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Set {_plural(n)} to {StockStatus(data['status']).label}."


def apply_assign(*, request, queryset, data):
    n = _each(
        services.stock_item_assign_to_customer,
        "assign",
        queryset,
        customer=data["customer"],
        quantity=data["quantity"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Sent {_plural(n)} to {data['customer']}."


def apply_return(*, request, queryset, data):
    n = _each(
        services.stock_item_return_from_customer,
        "return",
        queryset,
        location=data["location"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Returned {_plural(n)} into {data['location']}."


def apply_install(*, request, queryset, data):
    n = _each(
        services.stock_item_install,
        "install",
        queryset,
        into=data["into"],
        quantity=data["quantity"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Installed {_plural(n)} into {data['into']}."


def apply_uninstall(*, request, queryset, data):
    n = _each(
        services.stock_item_uninstall,
        "uninstall",
        queryset,
        location=data["location"],
        user=request.user,
        notes=data["notes"],
    )
    return f"Uninstalled {_plural(n)} into {data['location']}."


STOCK_ACTIONS = [
    form_action(
        name="add_stock", description="Add stock", form_class=QuantityForm, apply=apply_add
    ),
    form_action(
        name="remove_stock", description="Remove stock", form_class=QuantityForm, apply=apply_remove
    ),
    form_action(
        name="count_stock",
        description="Count stock (stocktake)",
        form_class=CountForm,
        apply=apply_count,
    ),
    form_action(
        name="move_stock", description="Move to location", form_class=MoveForm, apply=apply_move
    ),
    form_action(name="split_stock", description="Split", form_class=SplitForm, apply=apply_split),
    form_action(
        name="merge_stock",
        description="Merge into one item",
        form_class=MergeForm,
        apply=apply_merge,
    ),
    form_action(
        name="serialize_stock",
        description="Assign serial numbers",
        form_class=SerializeForm,
        apply=apply_serialize,
        one_at_a_time=True,
    ),
    form_action(
        name="change_status", description="Change status", form_class=StatusForm, apply=apply_status
    ),
    form_action(
        name="assign_to_customer",
        description="Send to customer",
        form_class=CustomerForm,
        apply=apply_assign,
    ),
    form_action(
        name="return_from_customer",
        description="Return from customer",
        form_class=ReturnForm,
        apply=apply_return,
    ),
    form_action(
        name="install_into",
        description="Install into another item",
        form_class=InstallForm,
        apply=apply_install,
    ),
    form_action(
        name="uninstall",
        description="Uninstall from assembly",
        form_class=ReturnForm,
        apply=apply_uninstall,
    ),
]
