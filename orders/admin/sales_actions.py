"""Sales order actions, and the machinery the sales and return admins share.

- ``detail_action``: a button on an object's page that opens an intermediate form
  (``OrderActionForm``) and calls a service. A refusal is shown on the form, inline,
  and changes nothing (the call runs in a transaction that the refusal rolls back).
- ``ServiceInlineForm`` / ``ServiceInlineFormSet``: inline rows validated by a dry run
  of the service that will save them, and saved through it (the admin's
  ``save_formset`` calls ``save_through_services``).
- The sales order forms and their ``apply`` functions, and changelist actions for
  issuing, holding and cancelling several orders at once.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.decorators import action
from unfold.enums import ActionVariant
from unfold.widgets import UnfoldAdminSingleDateWidget, UnfoldBooleanSwitchWidget

from admin_customisations.actions import (
    ActionForm,
    add_service_error,
    autocomplete,
    dry_run,
    form_action,
)
from admin_customisations.jobs.bulk import Skip
from admin_customisations.pickers import Picker, narrow_to_picker, register_picker, scope_id
from inventory.admin.pickers import stock_item_label
from inventory.models import StockItem
from inventory.selectors import allocatable_items, part_ids_with_variants
from inventory.services.common import fmt
from orders.admin.common import status_message
from orders.choices import SALES_OPEN, SalesOrderStatus
from orders.models import SalesOrderAllocation, SalesOrderLine, SalesOrderShipment
from orders.selectors.sales import order_allocations, sales_lines_with_allocation
from orders.services import sales as services
from orders.services.common import may_change_order

S = SalesOrderStatus
QUANTITY = {"max_digits": 15, "decimal_places": 5, "min_value": 0}


# ---------------------------------------------------------------- shared machinery


class OrderActionForm(ActionForm):
    """The form of an intermediate page for one object (``obj``: an order or a shipment).

    Subclasses narrow their choice fields in ``setup()`` and may describe the object
    in ``summary()``: ``{"headers": [...], "rows": [[...], ...]}`` shown above the form.
    """

    intro = ""

    def __init__(self, *args, obj, **kwargs):
        self.obj = obj
        super().__init__(*args, **kwargs)
        self.setup()

    def setup(self):
        pass

    def summary(self):
        return None


class ConfirmForm(OrderActionForm):
    """A transition that needs no input: the page describes it and asks for confirmation."""


def detail_action(
    *,
    name,
    description,
    form_class,
    apply,
    permission,
    icon=None,
    variant=ActionVariant.DEFAULT,
    order_of=lambda obj: obj,
):
    """An ``actions_detail`` entry: GET shows ``form_class`` for the object, POST with
    ``apply`` runs ``apply(request=, obj=, data=)`` (through services) in a transaction
    and returns to the object's page with its message; a ValidationError re-shows the
    form with the message next to its field and nothing changed."""

    def view(modeladmin, request, object_id):
        opts = modeladmin.model._meta
        change_name = f"admin:{opts.app_label}_{opts.model_name}_change"
        obj = modeladmin.get_object(request, unquote(object_id))
        if obj is None:
            modeladmin.message_user(
                request, f"This {opts.verbose_name} no longer exists.", messages.ERROR
            )
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
        if not may_change_order(order_of(obj), request.user):
            raise PermissionDenied
        submitted = request.method == "POST" and "apply" in request.POST
        form = form_class(request.POST if submitted else None, obj=obj)
        if submitted and form.is_valid():
            try:
                with transaction.atomic():
                    message = apply(request=request, obj=obj, data=form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                modeladmin.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(reverse(change_name, args=[obj.pk]))
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": description,
            "subtitle": None,
            "opts": opts,
            "obj": obj,
            "form": form,
            "intro": form.intro,
            "summary": form.summary(),
            "change_url": reverse(change_name, args=[obj.pk]),
            "media": modeladmin.media + form.media,
        }
        return TemplateResponse(request, "orders/sales_action_form.html", context)

    view.__name__ = name
    return action(
        description=description,
        url_path=name.replace("_", "-"),
        permissions=[permission],
        icon=icon,
        variant=variant,
    )(view)


def offered_detail_actions(modeladmin, actions, object_id, offers) -> list:
    """Keep the detail actions whose condition holds for the object: ``offers`` maps an
    action name to ``callable(obj) -> bool`` (actions not in ``offers`` always show)."""
    obj = modeladmin.model.objects.filter(pk=object_id).first()
    prefix = f"{modeladmin.model._meta.app_label}_{modeladmin.model._meta.model_name}_"
    return [
        a
        for a in actions
        if obj is not None
        and offers.get(a.action_name.removeprefix(prefix), lambda _obj: True)(obj)
    ]


class _RollbackError(Exception):
    pass


def refusals(call) -> list[str]:
    """Run ``call`` and roll it back; the messages of its ValidationError (empty: accepted)."""
    try:
        with transaction.atomic():
            call()
            raise _RollbackError
    except _RollbackError:
        return []
    except ValidationError as error:
        return list(error.messages)


class ServiceInlineForm(forms.ModelForm):
    """An inline row saved through services.

    Subclasses set ``add_service`` (called with the parent as ``parent_arg`` and every
    form field), ``update_service`` (called with the row as ``row_arg`` and the changed
    fields) and ``delete_service`` (row as ``row_arg``). ``clean()`` dry-runs the
    add/update call so a refusal shows on the row; model validation is the service's.
    """

    add_service = update_service = delete_service = None
    parent_arg = "order"
    row_arg = "line"

    def _post_clean(self):
        # The services validate (dry run in clean()); the instance is not saved from this form.
        pass

    def service_values(self, names) -> dict:
        return {name: self.cleaned_data.get(name) for name in names if name in self.fields}

    def editable_names(self) -> list[str]:
        return [
            name for name in self._meta.fields if name in self.fields and name != self.parent_arg
        ]

    def call(self, user):
        if self.instance.pk is None:
            parent = getattr(self.instance, self.parent_arg)
            return self.add_service(
                **{self.parent_arg: parent, "user": user},
                **self.service_values(self.editable_names()),
            )
        changed = [name for name in self.changed_data if name in self.editable_names()]
        return self.update_service(
            **{self.row_arg: self.instance, "user": user}, **self.service_values(changed)
        )

    def delete(self, user):
        return self.delete_service(**{self.row_arg: self.instance, "user": user})

    def clean(self):
        data = super().clean()
        if not self.errors and self.has_changed() and not data.get("DELETE"):
            dry_run(self, lambda: self.call(user=None))
        return data


class ServiceInlineFormSet(forms.BaseInlineFormSet):
    """Inline rows saved through services; deleting a row is checked by a dry run too."""

    def clean(self):
        super().clean()
        problems = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form) and form.instance.pk:
                problems += [
                    f"{form.instance}: {message}"
                    for message in refusals(lambda form=form: form.delete(user=None))
                ]
        if problems:
            raise ValidationError(problems)

    def save_through_services(self, user) -> None:
        """What ``formset.save()`` does, through the services (also fills the lists the
        admin's change message reads)."""
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        for form in self.initial_forms:
            if self.can_delete and self._should_delete_form(form):
                form.delete(user=user)
                self.deleted_objects.append(form.instance)
            elif form.has_changed():
                self.changed_objects.append((form.call(user=user), form.changed_data))
        for form in self.extra_forms:
            if form.has_changed() and not (self.can_delete and self._should_delete_form(form)):
                self.new_objects.append(form.call(user=user))


# ---------------------------------------------------------------- sales forms


def _notes():
    return forms.CharField(required=False, max_length=500)


class IssueForm(ConfirmForm):
    intro = "The order moves to In progress: stock can be shipped against it."


class HoldForm(ConfirmForm):
    intro = "The order is put on hold: it cannot ship until it is issued again."


class CancelForm(ConfirmForm):
    intro = (
        "The order is cancelled and its unshipped allocations are deleted, so that stock is "
        "free again. Stock already shipped stays with the customer."
    )

    def summary(self):
        return allocation_summary(self.obj, unshipped_only=True)


class CompleteForm(ConfirmForm):
    intro = (
        "Refused while a shipment is pending or stock is allocated but not shipped. "
        "An order in progress becomes Shipped (or Complete, if so configured); a shipped "
        "order becomes Complete."
    )
    accept_incomplete = forms.BooleanField(
        required=False,
        label="Accept incomplete lines",
        help_text="Complete even if some lines have shipped less than ordered.",
    )

    def setup(self):
        self.fields["accept_incomplete"].widget = UnfoldBooleanSwitchWidget()

    def summary(self):
        return line_summary(self.obj)


def line_summary(order):
    lines = sales_lines_with_allocation(order.lines.select_related("part")).order_by("pk")
    return {
        "headers": ["Part", "Ordered", "Allocated", "Shipped", "Still needed"],
        "rows": [
            [
                str(line.part),
                fmt(line.quantity),
                fmt(line.allocated),
                fmt(line.shipped),
                fmt(max(line.outstanding, 0)),
            ]
            for line in lines
        ],
    }


def allocation_summary(order, *, unshipped_only=False, shipment=None):
    rows = order_allocations(order)
    if shipment is not None:
        rows = rows.filter(shipment=shipment)
    result = []
    for allocation in rows:
        shipped = allocation.shipment_id and allocation.shipment.is_shipped
        if unshipped_only and shipped:
            continue
        result.append(
            [
                str(allocation.line.part),
                str(allocation.item),
                allocation.item.location.pathstring if allocation.item.location_id else "–",
                fmt(allocation.quantity),
                allocation.shipment.reference if allocation.shipment_id else "–",
                "shipped" if shipped else "pending",
            ]
        )
    return {
        "headers": ["Line", "Stock item", "Location", "Quantity", "Shipment", "State"],
        "rows": result,
    }


def _pending_shipments(order):
    return SalesOrderShipment.objects.filter(order=order, shipment_date__isnull=True).order_by(
        "reference"
    )


class AllocateForm(OrderActionForm):
    intro = (
        "Set stock aside for a line: the item must be in stock and of the line's part or one "
        "of its variants. An item is never allocated beyond its quantity (across sales "
        "orders and builds); a serialized item is allocated as 1."
    )
    line = forms.ModelChoiceField(queryset=None, help_text="The line the stock is for.")
    item = forms.ModelChoiceField(
        StockItem.objects.all(),
        widget=autocomplete(SalesOrderAllocation, "item"),
        label="Stock item",
    )
    quantity = forms.DecimalField(**QUANTITY)
    shipment = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Optional: a pending shipment to pack it in."
    )

    def setup(self):
        self.fields["line"].queryset = self.obj.lines.select_related("part").order_by("pk")
        self.fields["shipment"].queryset = _pending_shipments(self.obj)
        narrow_to_picker(
            self.fields["item"], SALES_ALLOCATION_PICKER, SalesOrderAllocation, "item", self.obj.pk
        )

    def summary(self):
        return line_summary(self.obj)


def _sales_allocation_choices(queryset, scope):
    """In-stock items with free quantity of the order's line parts or their variants (the
    line itself is the service's check on submit, shown next to the field)."""
    order_id = scope_id(scope)
    part_ids = set(
        SalesOrderLine.objects.filter(order_id=order_id).values_list("part_id", flat=True)
    )
    return allocatable_items(queryset, part_ids_with_variants(part_ids))


SALES_ALLOCATION_PICKER = register_picker(
    Picker(
        name="sales_allocation",
        restrict=_sales_allocation_choices,
        label=stock_item_label,
        refusal="Choose an in-stock item of one of this order's parts (or a variant) that "
        "is not fully allocated.",
    )
)


class UnallocateForm(OrderActionForm):
    intro = "Release an allocation that has not shipped (or part of it)."
    allocation = forms.ModelChoiceField(queryset=None)
    quantity = forms.DecimalField(
        **QUANTITY, required=False, help_text="Leave empty to release the whole allocation."
    )

    def setup(self):
        self.fields["allocation"].queryset = (
            services.unshipped_allocations()
            .filter(line__order=self.obj)
            .select_related("line__order", "item__part")
            .order_by("pk")
        )


class AutoAllocateForm(ConfirmForm):
    intro = (
        "Allocates stock to every line that still needs some, where the choice is "
        "unambiguous: exactly one in-stock item of the line's own part has unallocated "
        "quantity. Allocations go on the order's pending shipment if it has exactly one."
    )

    def summary(self):
        return line_summary(self.obj)


class ShipmentForm(OrderActionForm):
    intro = "A new pending shipment; allocate stock to it, then ship it."
    reference = forms.CharField(
        max_length=100, required=False, help_text="Leave empty for the next number (1, 2, …)."
    )
    tracking_number = forms.CharField(max_length=100, required=False)
    invoice_number = forms.CharField(max_length=100, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea)


class AssignShipmentForm(OrderActionForm):
    intro = "Put every allocation of this order that has no shipment yet on a pending shipment."
    shipment = forms.ModelChoiceField(queryset=None)

    def setup(self):
        self.fields["shipment"].queryset = _pending_shipments(self.obj)

    def summary(self):
        return allocation_summary(self.obj, unshipped_only=True)


class ShipForm(OrderActionForm):
    """Ship a pending shipment of the order (``obj`` an order), or the shipment itself."""

    intro = (
        "Each allocation's stock is split off if partial and sent to the customer with this "
        "order; the lines' shipped quantities go up. Refused for an empty shipment."
    )
    shipment = forms.ModelChoiceField(queryset=None)
    tracking_number = forms.CharField(max_length=100, required=False)
    invoice_number = forms.CharField(max_length=100, required=False)
    shipment_date = forms.DateField(
        required=False, help_text="Leave empty for today.", label="Shipped on"
    )

    def setup(self):
        self.fields["shipment_date"].widget = UnfoldAdminSingleDateWidget()
        if isinstance(self.obj, SalesOrderShipment):
            self.fields["shipment"].queryset = SalesOrderShipment.objects.filter(pk=self.obj.pk)
            self.fields["shipment"].initial = self.obj.pk
            self.fields["tracking_number"].initial = self.obj.tracking_number
            self.fields["invoice_number"].initial = self.obj.invoice_number
        else:
            self.fields["shipment"].queryset = _pending_shipments(self.obj)

    def summary(self):
        if isinstance(self.obj, SalesOrderShipment):
            return allocation_summary(self.obj.order, shipment=self.obj)
        return allocation_summary(self.obj, unshipped_only=True)


# ---------------------------------------------------------------- apply functions


def apply_issue(*, request, obj, data):
    return status_message(services.sales_order_issue(order=obj, user=request.user), "issued")


def apply_hold(*, request, obj, data):
    return status_message(services.sales_order_hold(order=obj, user=request.user), "put on hold")


def apply_cancel(*, request, obj, data):
    return status_message(services.sales_order_cancel(order=obj, user=request.user), "cancelled")


def apply_complete(*, request, obj, data):
    order = services.sales_order_complete(
        order=obj, user=request.user, accept_incomplete=data["accept_incomplete"]
    )
    return status_message(order, "completed")


def apply_allocate(*, request, obj, data):
    allocation = services.sales_order_allocate(
        line=data["line"],
        item=data["item"],
        quantity=data["quantity"],
        shipment=data["shipment"],
        user=request.user,
    )
    where = f" on shipment {data['shipment'].reference}" if data["shipment"] else ""
    return (
        f"Allocated {fmt(data['quantity'])} of {allocation.item} to {data['line'].part.name}"
        f"{where} (now {fmt(allocation.quantity)} from this item)."
    )


def apply_unallocate(*, request, obj, data):
    allocation = data["allocation"]
    text = str(allocation)
    remaining = services.sales_order_unallocate(
        allocation=allocation, quantity=data["quantity"], user=request.user
    )
    if remaining is None:
        return f"Released {text}."
    return f"Released {fmt(data['quantity'])}; {fmt(remaining.quantity)} stays allocated."


def apply_auto_allocate(*, request, obj, data):
    result = services.sales_order_auto_allocate(order=obj, user=request.user)
    done = (
        "; ".join(f"{fmt(a.quantity)} of {a.item} → {a.line.part.name}" for a in result.allocations)
        or "nothing"
    )
    skipped = f" Left alone: {'; '.join(result.skipped)}." if result.skipped else ""
    return f"Auto-allocated {done}.{skipped}"


def apply_add_shipment(*, request, obj, data):
    shipment = services.shipment_create(
        order=obj,
        user=request.user,
        reference=data["reference"],
        tracking_number=data["tracking_number"],
        invoice_number=data["invoice_number"],
        notes=data["notes"],
    )
    return f"Shipment {shipment.reference} added to {obj.reference}."


def apply_assign_shipment(*, request, obj, data):
    count = services.shipment_add_allocations(shipment=data["shipment"], user=request.user)
    return f"Put {count} allocation{'' if count == 1 else 's'} on shipment {data['shipment']}."


def apply_ship(*, request, obj, data):
    shipment = services.shipment_complete(
        shipment=data["shipment"],
        user=request.user,
        tracking_number=data["tracking_number"],
        invoice_number=data["invoice_number"],
        shipment_date=data["shipment_date"],
    )
    count = shipment.allocations.count()
    return (
        f"Shipment {shipment} shipped on {shipment.shipment_date:%Y-%m-%d}: "
        f"{count} stock item{'' if count == 1 else 's'} sent to {shipment.order.customer}."
    )


# ---------------------------------------------------------------- detail actions

issue = detail_action(
    name="issue",
    description="Issue order",
    form_class=IssueForm,
    apply=apply_issue,
    permission="issue",
    icon="send",
    variant=ActionVariant.PRIMARY,
)
hold = detail_action(
    name="hold",
    description="Put on hold",
    form_class=HoldForm,
    apply=apply_hold,
    permission="issue",
    icon="pause",
)
complete = detail_action(
    name="complete",
    description="Complete order",
    form_class=CompleteForm,
    apply=apply_complete,
    permission="issue",
    icon="done_all",
    variant=ActionVariant.SUCCESS,
)
cancel = detail_action(
    name="cancel",
    description="Cancel order",
    form_class=CancelForm,
    apply=apply_cancel,
    permission="issue",
    icon="cancel",
    variant=ActionVariant.DANGER,
)
allocate = detail_action(
    name="allocate",
    description="Allocate stock",
    form_class=AllocateForm,
    apply=apply_allocate,
    permission="ship",
    icon="inventory_2",
)
auto_allocate = detail_action(
    name="auto_allocate",
    description="Auto-allocate",
    form_class=AutoAllocateForm,
    apply=apply_auto_allocate,
    permission="ship",
    icon="auto_mode",
)
unallocate = detail_action(
    name="unallocate",
    description="Release allocation",
    form_class=UnallocateForm,
    apply=apply_unallocate,
    permission="ship",
    icon="remove_shopping_cart",
)
add_shipment = detail_action(
    name="add_shipment",
    description="Add shipment",
    form_class=ShipmentForm,
    apply=apply_add_shipment,
    permission="ship",
    icon="package_2",
)
assign_shipment = detail_action(
    name="assign_shipment",
    description="Put allocations on a shipment",
    form_class=AssignShipmentForm,
    apply=apply_assign_shipment,
    permission="ship",
    icon="move_to_inbox",
)
ship = detail_action(
    name="ship",
    description="Ship a shipment",
    form_class=ShipForm,
    apply=apply_ship,
    permission="ship",
    icon="local_shipping",
    variant=ActionVariant.PRIMARY,
)
ship_this = detail_action(
    name="ship_this",
    description="Ship this shipment",
    form_class=ShipForm,
    apply=apply_ship,
    permission="ship",
    icon="local_shipping",
    variant=ActionVariant.PRIMARY,
    order_of=lambda shipment: shipment.order,
)

_open = lambda order: order.status in SALES_OPEN  # noqa: E731
SALES_DETAIL_OFFERS = {
    "issue": lambda order: order.status in {S.PENDING, S.ON_HOLD},
    "hold": lambda order: order.status in {S.PENDING, S.IN_PROGRESS},
    "complete": lambda order: order.status in {S.IN_PROGRESS, S.SHIPPED},
    "cancel": _open,
    "allocate": _open,
    "auto_allocate": _open,
    "unallocate": _open,
    "add_shipment": _open,
    "assign_shipment": _open,
    "ship": lambda order: order.status == S.IN_PROGRESS,
}
SALES_DETAIL_ACTIONS = [
    "issue",
    "hold",
    "complete",
    "cancel",
    {
        "title": "Stock",
        "icon": "inventory_2",
        "items": ["allocate", "auto_allocate", "unallocate"],
    },
    {
        "title": "Shipping",
        "icon": "local_shipping",
        "items": ["add_shipment", "assign_shipment", "ship"],
    },
]


# ---------------------------------------------------------------- changelist actions


class BulkConfirmForm(ActionForm):
    """Changelist transitions need no input: the page lists the orders and asks to confirm."""


def _transition(service, already, verb):
    """A per-order step: skip orders already in the target state, else call the service."""

    def each(order, *, user, data):
        if order.status in already:
            raise Skip(f"{order.reference} is already {order.get_status_display()}.")
        service(order=order, user=user)

    each.__name__ = f"{verb}_each"
    return each


def auto_allocate_each(order, *, user, data):
    result = services.sales_order_auto_allocate(order=order, user=user)
    if not result.allocations:
        raise Skip(f"{order.reference}: nothing could be allocated automatically.")


def _orders(verb):
    return lambda n, data: f"{verb.capitalize()} {n} sales order{'' if n == 1 else 's'}."


SALES_ORDER_ACTIONS = [
    form_action(
        name="issue_orders",
        description="Issue orders",
        form_class=BulkConfirmForm,
        each=_transition(services.sales_order_issue, {S.IN_PROGRESS}, "issue"),
        summary=_orders("issued"),
        permission="issue",
    ),
    form_action(
        name="hold_orders",
        description="Put orders on hold",
        form_class=BulkConfirmForm,
        each=_transition(services.sales_order_hold, {S.ON_HOLD}, "hold"),
        summary=_orders("put on hold"),
        permission="issue",
    ),
    form_action(
        name="cancel_orders",
        description="Cancel orders",
        form_class=BulkConfirmForm,
        each=_transition(services.sales_order_cancel, {S.CANCELLED}, "cancel"),
        summary=_orders("cancelled"),
        permission="issue",
    ),
    form_action(
        name="auto_allocate_orders",
        description="Auto-allocate stock (each order)",
        form_class=BulkConfirmForm,
        each=auto_allocate_each,
        summary=_orders("auto-allocated"),
        permission="ship",
    ),
]
