"""The stock item admin's actions: one intermediate form per stock service."""

from django import forms
from django.core.exceptions import ValidationError

from admin_customisations.actions import (
    ActionForm,
    autocomplete,
    detail_from_form_action,
    form_action,
)
from admin_customisations.jobs.bulk import Skip
from inventory.admin.pickers import placeable_location_field
from inventory.choices import StockStatus
from inventory.models import StockItem
from inventory.services import stock as services
from inventory.services import stock_bulk as bulk
from inventory.services.common import fmt, operation_applies
from orders.models import Company

QUANTITY = {"max_digits": 15, "decimal_places": 5, "min_value": 0}


def _location_field(required=True, help_text=""):
    return placeable_location_field(required=required, help_text=help_text)


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


def _plural(n, word="item"):
    return f"{n} stock {word}{'' if n == 1 else 's'}"


# Per-object steps (``each``): the same code runs inline for small selections and in
# background jobs for large ones (admin_customisations.jobs).


def add_each(item, *, user, data):
    services.stock_item_add(item=item, quantity=data["quantity"], user=user, notes=data["notes"])


def remove_each(item, *, user, data):
    services.stock_item_remove(item=item, quantity=data["quantity"], user=user, notes=data["notes"])


def count_each(item, *, user, data):
    services.stock_item_count(
        item=item,
        quantity=data["quantity"],
        status=data["status"],
        user=user,
        notes=data["notes"],
    )


def move_each(item, *, user, data):
    if item.location_id == data["location"].pk and data["quantity"] is None:
        raise Skip(f"{item} is already in {data['location']}.")
    services.stock_item_move(
        item=item,
        location=data["location"],
        quantity=data["quantity"],
        user=user,
        notes=data["notes"],
    )


def split_each(item, *, user, data):
    services.stock_item_split(
        item=item,
        quantity=data["quantity"],
        location=data["location"],
        user=user,
        notes=data["notes"],
    )


def status_each(item, *, user, data):
    if item.status == data["status"]:
        raise Skip(f"{item} is already {StockStatus(data['status']).label}.")
    services.stock_item_change_status(
        item=item, status=data["status"], user=user, notes=data["notes"]
    )


def assign_each(item, *, user, data):
    if item.customer_id == data["customer"].pk:
        raise Skip(f"{item} is already with {data['customer']}.")
    services.stock_item_assign_to_customer(
        item=item,
        customer=data["customer"],
        quantity=data["quantity"],
        user=user,
        notes=data["notes"],
    )


def return_each(item, *, user, data):
    services.stock_item_return_from_customer(
        item=item, location=data["location"], user=user, notes=data["notes"]
    )


def install_each(item, *, user, data):
    services.stock_item_install(
        item=item, into=data["into"], quantity=data["quantity"], user=user, notes=data["notes"]
    )


def uninstall_each(item, *, user, data):
    services.stock_item_uninstall(
        item=item, location=data["location"], user=user, notes=data["notes"]
    )


def _outcomes(result):
    """A bulk service's BulkOutcome as the job runner's {pk: (outcome, message)}."""
    outcomes = {pk: ("succeeded", "") for pk in result.changed}
    outcomes |= {pk: ("skipped", message) for pk, message in result.skipped.items()}
    outcomes |= {pk: ("failed", message) for pk, message in result.refused.items()}
    return outcomes


def status_batch(items, *, user, data):
    return _outcomes(
        bulk.stock_items_change_status(
            items=items, status=data["status"], user=user, notes=data["notes"], locked=True
        )
    )


def move_batch(items, *, user, data):
    if data["quantity"] is not None:
        return None  # partial moves split items: one by one
    return _outcomes(
        bulk.stock_items_move(
            items=items, location=data["location"], user=user, notes=data["notes"], locked=True
        )
    )


class MergeGroupsForm(ActionForm):
    notes = _notes()


def merge_group_each(item, *, user, data, selection):
    """Merge the selected items with ``item``'s part, location and status into the first one."""
    group = list(
        selection.filter(part_id=item.part_id, location_id=item.location_id, status=item.status)
        .held()
        .order_by("pk")
    )
    if not group or group[0].pk != item.pk:
        raise Skip(f"{item} is merged with the first selected item of its group.")
    if len(group) == 1:
        raise Skip(f"{item} has no other selected item of the same part, place and status.")
    services.stock_items_merge(items=group, location=None, user=user, notes=data["notes"])


def delete_each(item, *, user, data):
    services.stock_item_delete(item=item, user=user, reason=data["notes"] or "Deleted")


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


class DeleteForm(ActionForm):
    notes = forms.CharField(
        required=False,
        max_length=100,
        label="Reason",
        help_text="Recorded in the history of each deleted item (default: Deleted).",
    )


def _stock_action(name, description, form_class, each, summary, permission="change", batch=None):
    return form_action(
        name=name,
        description=description,
        form_class=form_class,
        each=each,
        summary=summary,
        permission=permission,
        select_related=("part", "location"),
        each_batch=batch,
    )


STOCK_ACTIONS = [
    _stock_action(
        "add_stock",
        "Add stock",
        QuantityForm,
        add_each,
        lambda n, d: f"Added {fmt(d['quantity'])} to {_plural(n)}.",
    ),
    _stock_action(
        "remove_stock",
        "Remove stock",
        QuantityForm,
        remove_each,
        lambda n, d: f"Removed {fmt(d['quantity'])} from {_plural(n)}.",
    ),
    _stock_action(
        "count_stock",
        "Count stock (stocktake)",
        CountForm,
        count_each,
        lambda n, d: f"Counted {_plural(n)}: {fmt(d['quantity'])} each.",
    ),
    _stock_action(
        "move_stock",
        "Move to location",
        MoveForm,
        move_each,
        lambda n, d: f"Moved {_plural(n)} to {d['location']}.",
        batch=move_batch,
    ),
    _stock_action(
        "split_stock",
        "Split",
        SplitForm,
        split_each,
        lambda n, d: f"Split {fmt(d['quantity'])} off {_plural(n)}.",
    ),
    form_action(
        name="merge_stock",
        description="Merge into one item",
        form_class=MergeForm,
        apply=apply_merge,
    ),
    form_action(
        name="merge_stock_groups",
        description="Merge by part, location and status",
        form_class=MergeGroupsForm,
        each=merge_group_each,
        summary=lambda n, d: f"Merged {n} group{'' if n == 1 else 's'} of stock items.",
        pass_selection=True,
        select_related=("part", "location"),
    ),
    form_action(
        name="serialize_stock",
        description="Assign serial numbers",
        form_class=SerializeForm,
        apply=apply_serialize,
        one_at_a_time=True,
    ),
    _stock_action(
        "change_status",
        "Change status",
        StatusForm,
        status_each,
        lambda n, d: f"Set {_plural(n)} to {StockStatus(d['status']).label}.",
        batch=status_batch,
    ),
    _stock_action(
        "assign_to_customer",
        "Send to customer",
        CustomerForm,
        assign_each,
        lambda n, d: f"Sent {_plural(n)} to {d['customer']}.",
    ),
    _stock_action(
        "return_from_customer",
        "Return from customer",
        ReturnForm,
        return_each,
        lambda n, d: f"Returned {_plural(n)} into {d['location']}.",
    ),
    _stock_action(
        "install_into",
        "Install into another item",
        InstallForm,
        install_each,
        lambda n, d: f"Installed {_plural(n)} into {d['into']}.",
    ),
    _stock_action(
        "uninstall",
        "Uninstall from assembly",
        ReturnForm,
        uninstall_each,
        lambda n, d: f"Uninstalled {_plural(n)} into {d['location']}.",
    ),
    _stock_action(
        "delete_stock",
        "Delete stock items",
        DeleteForm,
        delete_each,
        lambda n, d: f"Deleted {_plural(n)}.",
        permission="delete",
    ),
]

STOCK_ACTIONS_BY_NAME = {a.__name__: a for a in STOCK_ACTIONS}

# The stock item page's buttons: list action -> (the stock operation it performs, see
# inventory.services.common.OPERATIONS; its icon). Merging needs two items and deleting
# has Django's own button, so neither is offered here.
DETAIL_OPERATIONS = {
    "move_stock": ("move", "move_item"),
    "count_stock": ("count", "fact_check"),
    "add_stock": ("add", "add"),
    "remove_stock": ("remove", "remove"),
    "split_stock": ("split", "call_split"),
    "serialize_stock": ("serialize", "pin"),
    "change_status": ("status", "label"),
    "assign_to_customer": ("assign", "local_shipping"),
    "return_from_customer": ("return", "assignment_return"),
    "install_into": ("install", "login"),
    "uninstall": ("uninstall", "logout"),
}


def stock_detail_action(name):
    """The stock item page's button for list action ``name`` (same form and service)."""
    return detail_from_form_action(STOCK_ACTIONS_BY_NAME[name], icon=DETAIL_OPERATIONS[name][1])


STOCK_DETAIL_LAYOUT = [
    "detail_move_stock",
    "detail_count_stock",
    {
        "title": "Quantity",
        "icon": "exposure",
        "items": [
            "detail_add_stock",
            "detail_remove_stock",
            "detail_split_stock",
            "detail_serialize_stock",
        ],
    },
    "detail_change_status",
    {
        "title": "Customer and assembly",
        "icon": "swap_horiz",
        "items": [
            "detail_assign_to_customer",
            "detail_return_from_customer",
            "detail_install_into",
            "detail_uninstall",
        ],
    },
]


def offered_stock_detail_actions(actions, item):
    """The page's buttons that apply to ``item`` as it is (``operation_applies``)."""
    if item is None:
        return actions
    offered = {
        f"detail_{name}"
        for name, (operation, _) in DETAIL_OPERATIONS.items()
        if operation_applies(item, operation)
    }
    return [a for a in actions if a.method.__name__ in offered]
