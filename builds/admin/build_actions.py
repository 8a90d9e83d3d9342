"""The build order admin's actions: one intermediate form per build service.

Each action is a changelist action (``form_action``) and, through
``detail_action``, a button on the build's change page that shows the same form.
A refusal shows the service's message on the form and changes nothing.
"""

from django import forms
from django.core.exceptions import ValidationError

from admin_customisations.actions import (
    ActionForm,
    autocomplete,
    detail_from_form_action,
    form_action,
)
from admin_customisations.jobs.bulk import Skip
from admin_customisations.pickers import Picker, narrow_to_picker, register_picker, scope_id
from builds.choices import BuildStatus
from builds.models import BuildItem, BuildLine, BuildOrder
from builds.selectors.bom import valid_allocation_part_ids_many
from builds.selectors.build import build_outputs
from builds.services import build as services
from inventory.admin.pickers import placeable_location_field, stock_item_label
from inventory.choices import AVAILABLE_STATUSES, StockStatus
from inventory.models import StockItem
from inventory.selectors import allocatable_items
from inventory.services.common import fmt

QUANTITY = {"max_digits": 15, "decimal_places": 5, "min_value": 0}


def _notes():
    return forms.CharField(
        required=False, max_length=500, help_text="Recorded in the stock items' timelines."
    )


def _location(help_text, required=False):
    return placeable_location_field(required=required, help_text=help_text)


class BuildForm(ActionForm):
    """An action form about one build: ``self.build`` is it (None for a wider selection)."""

    def __init__(self, *args, queryset=None, **kwargs):
        super().__init__(*args, queryset=queryset, **kwargs)
        self.build = None
        if queryset is not None and queryset.count() == 1:
            self.build = queryset.get()
        self.setup()

    def setup(self):
        """Hook: narrow choices to ``self.build``."""

    def _choices(self, name, make_queryset, label=str):
        """Limit field ``name`` to ``make_queryset(build)`` (no choices without one build)."""
        field = self.fields[name]
        field.label_from_instance = label
        if self.build is not None:
            field.queryset = make_queryset(self.build)
        else:
            field.queryset = field.queryset.none()


class ConfirmForm(BuildForm):
    """No input: the page only confirms the selection."""


class CancelForm(ActionForm):
    delete_outputs = forms.BooleanField(
        required=False,
        label="Delete outputs still in production",
        help_text="Otherwise they stay, in production, with the cancelled build.",
    )


class QuantityForm(BuildForm):
    quantity = forms.IntegerField(
        min_value=1, help_text="Every line's required quantity is recomputed."
    )

    def setup(self):
        if self.build is not None:
            self.fields["quantity"].initial = self.build.quantity


def _output_label(output):
    return f"{output} (output {output.pk})"


def _outputs(build):
    return StockItem.objects.filter(build=build, is_building=True).select_related("part")


class OutputCreateForm(BuildForm):
    quantity = forms.IntegerField(min_value=1)
    serials = forms.CharField(
        required=False,
        max_length=5000,
        help_text="Required for trackable assemblies: one output per serial, e.g. 1-10 or ~.",
    )
    batch = forms.CharField(required=False, max_length=100, help_text="Default: the build's.")
    location = _location("Where the outputs are made (default: the build's destination).")
    notes = _notes()

    def setup(self):
        if self.build is not None:
            self.fields["quantity"].initial = max(
                self.build.remaining
                - sum(int(q) for q in _outputs(self.build).values_list("quantity", flat=True)),
                1,
            )


class OutputForm(BuildForm):
    output = forms.ModelChoiceField(StockItem.objects.none(), help_text="An output in production.")

    def setup(self):
        self._choices("output", _outputs, _output_label)


class OutputCompleteForm(OutputForm):
    quantity = forms.IntegerField(
        min_value=1, required=False, help_text="Leave empty to complete the whole output."
    )
    location = _location("Where it goes (default: the build's destination).")
    status = forms.TypedChoiceField(
        choices=[(s.value, s.label) for s in StockStatus if s in AVAILABLE_STATUSES],
        coerce=int,
        initial=StockStatus.OK,
    )
    accept_unallocated = forms.BooleanField(
        required=False,
        label="Accept missing trackable components",
        help_text="Complete it even if its trackable components are not all allocated.",
    )
    notes = _notes()


class OutputScrapForm(OutputForm):
    quantity = forms.IntegerField(
        min_value=1, required=False, help_text="Leave empty to scrap the whole output."
    )
    location = _location("Where the rejected stock goes (default: where it is).")
    discard_allocations = forms.BooleanField(
        required=False,
        label="Free its allocated components",
        help_text="Otherwise they are installed into the rejected output (they were used).",
    )
    notes = _notes()


def _line_label(line):
    return f"{line.bom_item.sub_part} (required {fmt(line.quantity)})"


def _lines(build):
    return build.lines.select_related("bom_item__sub_part").order_by(
        "bom_item__sub_part__name", "pk"
    )


class AllocateForm(BuildForm):
    line = forms.ModelChoiceField(BuildLine.objects.none(), label="Line")
    stock_item = forms.ModelChoiceField(
        StockItem.objects.in_stock(),
        widget=autocomplete(BuildItem, "stock_item"),
        help_text="An in-stock item of the line's component, a variant or a substitute.",
    )
    quantity = forms.DecimalField(**QUANTITY)
    output = forms.ModelChoiceField(
        StockItem.objects.none(),
        required=False,
        help_text="For trackable components: the output they go into.",
    )

    def setup(self):
        self._choices("line", _lines, _line_label)
        self._choices("output", _outputs, _output_label)
        scope = self.build.pk if self.build is not None else ""
        narrow_to_picker(
            self.fields["stock_item"], BUILD_ALLOCATION_PICKER, BuildItem, "stock_item", scope
        )


def _build_allocation_choices(queryset, scope):
    """In-stock items with free quantity of the parts some line of the build may use (its
    component, substitutes and, if allowed, variants: ``valid_allocation_part_ids_many``),
    from the build's source location subtree when it has one. Which line: the service's
    check on submit, next to the field."""
    build = BuildOrder.objects.filter(pk=scope_id(scope)).select_related("take_from").first()
    if build is None:
        return queryset.none()
    bom_items = [line.bom_item for line in build.lines.select_related("bom_item__sub_part")]
    part_ids = set().union(*valid_allocation_part_ids_many(bom_items).values())
    items = allocatable_items(queryset, part_ids)
    if build.take_from_id:
        items = items.in_location_subtree(build.take_from)
    return items


BUILD_ALLOCATION_PICKER = register_picker(
    Picker(
        name="build_allocation",
        restrict=_build_allocation_choices,
        label=stock_item_label,
        refusal="Choose an in-stock item, not fully allocated, of a part this build's lines "
        "may use (from its source location).",
    )
)


def _allocation_label(allocation):
    into = f" → output {allocation.install_into_id}" if allocation.install_into_id else ""
    return f"{fmt(allocation.quantity)} of {allocation.stock_item}{into}"


def _allocations(build):
    return BuildItem.objects.filter(build_line__build=build).select_related("stock_item__part")


class UnallocateForm(BuildForm):
    allocation = forms.ModelChoiceField(
        BuildItem.objects.none(),
        required=False,
        help_text="Leave empty to remove every allocation (of the line/output chosen below).",
    )
    quantity = forms.DecimalField(
        **QUANTITY, required=False, help_text="Part of the chosen allocation (default: all of it)."
    )
    line = forms.ModelChoiceField(BuildLine.objects.none(), required=False)
    output = forms.ModelChoiceField(StockItem.objects.none(), required=False)

    def setup(self):
        self._choices("allocation", _allocations, _allocation_label)
        self._choices("line", _lines, _line_label)
        self._choices("output", _outputs, _output_label)


class AutoAllocateForm(BuildForm):
    interchangeable = forms.BooleanField(
        required=False,
        help_text="Take from several stock items when more than one could serve a line "
        "(otherwise such lines are left for you to choose).",
    )
    optional = forms.BooleanField(required=False, label="Include optional lines")
    location = _location("Only stock in this location and below.")


class CompleteForm(BuildForm):
    accept_incomplete = forms.BooleanField(
        required=False,
        label="Accept fewer than ordered",
        help_text="Complete the build although fewer were built than its quantity.",
    )
    accept_unallocated = forms.BooleanField(
        required=False,
        label="Accept unallocated lines",
        help_text="Complete the build although some required stock is not allocated.",
    )


# -- apply functions: call the service, return the success message --------------------


def _each_build(service, queryset, **kwargs) -> int:
    builds = list(queryset.order_by("pk"))
    for build in builds:
        try:
            service(build=build, **kwargs)
        except ValidationError as error:
            error.item_prefix = f"{build.reference}: "
            raise
    return len(builds)


def _plural(n):
    return f"{n} build order{'' if n == 1 else 's'}"


def apply_cancel(*, request, queryset, data):
    n = _each_build(
        services.build_order_cancel,
        queryset,
        user=request.user,
        delete_outputs=data["delete_outputs"],
    )
    return f"Cancelled {_plural(n)}."


def apply_quantity(*, request, queryset, data):
    build = services.build_order_set_quantity(
        build=queryset.get(), quantity=data["quantity"], user=request.user
    )
    return f"{build.reference} now builds {build.quantity}; its lines were recomputed."


def apply_output_create(*, request, queryset, data):
    build = queryset.get()
    outputs = services.build_output_create(
        build=build,
        quantity=data["quantity"],
        serials=data["serials"],
        batch=data["batch"],
        location=data["location"],
        notes=data["notes"],
        user=request.user,
    )
    return f"Created {len(outputs)} output{'s' if len(outputs) != 1 else ''} for {build.reference}."


def apply_output_complete(*, request, queryset, data):
    build = queryset.get()
    output = services.build_output_complete(
        build=build,
        output=data["output"],
        quantity=data["quantity"],
        location=data["location"],
        status=data["status"],
        accept_unallocated=data["accept_unallocated"],
        notes=data["notes"],
        user=request.user,
    )
    return f"Completed {output} for {build.reference}."


def apply_output_scrap(*, request, queryset, data):
    build = queryset.get()
    output = services.build_output_scrap(
        build=build,
        output=data["output"],
        quantity=data["quantity"],
        location=data["location"],
        discard_allocations=data["discard_allocations"],
        notes=data["notes"],
        user=request.user,
    )
    return f"Scrapped {output} of {build.reference}."


def apply_output_delete(*, request, queryset, data):
    build = queryset.get()
    label = str(data["output"])
    services.build_output_delete(build=build, output=data["output"], user=request.user)
    return f"Deleted output {label} of {build.reference}."


def apply_allocate(*, request, queryset, data):
    build = queryset.get()
    services.build_allocate(
        line=data["line"],
        stock_item=data["stock_item"],
        quantity=data["quantity"],
        output=data["output"],
        user=request.user,
    )
    return f"Allocated {fmt(data['quantity'])} of {data['stock_item']} to {build.reference}."


def apply_unallocate(*, request, queryset, data):
    build = queryset.get()
    freed = services.build_unallocate(
        build=build,
        allocation=data["allocation"],
        quantity=data["quantity"],
        line=data["line"],
        output=data["output"],
        user=request.user,
    )
    return f"Unallocated {fmt(freed)} from {build.reference}."


def apply_auto_allocate(*, request, queryset, data):
    build = queryset.get()
    result = services.build_auto_allocate(
        build=build,
        interchangeable=data["interchangeable"],
        optional=data["optional"],
        location=data["location"],
        user=request.user,
    )
    message = (
        f"Allocated {fmt(result.quantity)} in {len(result.allocations)} allocation"
        f"{'s' if len(result.allocations) != 1 else ''} to {build.reference}."
    )
    if result.ambiguous_lines:
        names = ", ".join(str(line.bom_item.sub_part) for line in result.ambiguous_lines)
        message += (
            f" Left for you to choose (several stock items could be used): {names}. "
            "Allocate them by hand, or choose 'interchangeable'."
        )
    return message


def apply_trim(*, request, queryset, data):
    build = queryset.get()
    trimmed = services.build_trim_allocations(build=build, user=request.user)
    if not trimmed:
        return f"Nothing is over-allocated on {build.reference}."
    return f"Freed {fmt(trimmed)} of over-allocated stock from {build.reference}."


def apply_complete(*, request, queryset, data):
    build = services.build_order_complete(
        build=queryset.get(),
        accept_incomplete=data["accept_incomplete"],
        accept_unallocated=data["accept_unallocated"],
        user=request.user,
    )
    return f"Completed {build.reference}: {build.completed} of {build.quantity} built."


def apply_child_builds(*, request, queryset, data):
    build = queryset.get()
    children = services.build_create_child_builds(build=build, user=request.user)
    if not children:
        return f"No sub-assembly of {build.reference} is short: no child builds created."
    made = ", ".join(f"{c.reference} ({c.quantity} × {c.part})" for c in children)
    return f"Created child builds of {build.reference}: {made}."


# ---------------------------------------------------------------- bulk (per-build) steps
# These run inline for small selections and as background jobs for large ones.


class BulkAutoAllocateForm(ActionForm):
    interchangeable = forms.BooleanField(
        required=False,
        help_text="Take from several stock items when more than one could serve a line.",
    )
    optional = forms.BooleanField(required=False, label="Include optional lines")
    location = _location("Only stock in this location and below.")


class BulkOutputCompleteForm(ActionForm):
    location = _location("Where the outputs go (default: each build's destination).")
    notes = forms.CharField(required=False, max_length=500)


def _build_transition(service, already, verb):
    def each(build, *, user, data):
        if build.status in already:
            raise Skip(f"{build.reference} is already {build.get_status_display()}.")
        service(build=build, user=user, **data)

    each.__name__ = f"{verb}_each"
    return each


def auto_allocate_each(build, *, user, data):
    result = services.build_auto_allocate(build=build, user=user, **data)
    if not result.allocations:
        raise Skip(f"{build.reference}: nothing could be allocated automatically.")


def complete_outputs_each(build, *, user, data):
    outputs = list(build_outputs(build).filter(is_building=True))
    if not outputs:
        raise Skip(f"{build.reference} has no outputs in production.")
    for output in outputs:
        services.build_output_complete(
            build=build, output=output, location=data["location"], notes=data["notes"], user=user
        )


BULK_BUILD_ACTIONS = [
    form_action(
        name="issue_builds",
        description="Issue (start production)",
        form_class=ConfirmForm,
        each=_build_transition(services.build_order_issue, {BuildStatus.PRODUCTION}, "issue"),
        summary=lambda n, d: f"Issued {_plural(n)}.",
        permission="issue",
    ),
    form_action(
        name="hold_builds",
        description="Put on hold",
        form_class=ConfirmForm,
        each=_build_transition(services.build_order_hold, {BuildStatus.ON_HOLD}, "hold"),
        summary=lambda n, d: f"Put {_plural(n)} on hold.",
        permission="issue",
    ),
    form_action(
        name="auto_allocate_builds",
        description="Auto-allocate stock (each build)",
        form_class=BulkAutoAllocateForm,
        each=auto_allocate_each,
        summary=lambda n, d: f"Auto-allocated stock to {_plural(n)}.",
        permission="allocate",
    ),
    form_action(
        name="complete_all_outputs",
        description="Complete all outputs in production",
        form_class=BulkOutputCompleteForm,
        each=complete_outputs_each,
        summary=lambda n, d: f"Completed the outputs of {_plural(n)}.",
        permission="complete",
    ),
]


# name, description, form, apply, permission, one build only, url path
SPECS = [
    ("cancel_builds", "Cancel", CancelForm, apply_cancel, "issue", False),
    ("set_build_quantity", "Change quantity", QuantityForm, apply_quantity, "change", True),
    ("create_outputs", "Create outputs", OutputCreateForm, apply_output_create, "complete", True),
    (
        "complete_output",
        "Complete an output",
        OutputCompleteForm,
        apply_output_complete,
        "complete",
        True,
    ),
    ("scrap_output", "Scrap an output", OutputScrapForm, apply_output_scrap, "complete", True),
    ("delete_output", "Delete an output", OutputForm, apply_output_delete, "complete", True),
    ("allocate_stock", "Allocate stock", AllocateForm, apply_allocate, "allocate", True),
    ("unallocate_stock", "Unallocate stock", UnallocateForm, apply_unallocate, "allocate", True),
    (
        "auto_allocate",
        "Auto-allocate stock",
        AutoAllocateForm,
        apply_auto_allocate,
        "allocate",
        True,
    ),
    ("trim_allocations", "Trim over-allocation", ConfirmForm, apply_trim, "allocate", True),
    ("complete_builds", "Complete build", CompleteForm, apply_complete, "complete", True),
    (
        "create_child_builds",
        "Create child builds for short sub-assemblies",
        ConfirmForm,
        apply_child_builds,
        "add_child",
        True,
    ),
]

BUILD_ACTIONS = [
    form_action(
        name=name,
        description=description,
        form_class=form_class,
        apply=apply,
        permission=permission,
        one_at_a_time=one,
    )
    for name, description, form_class, apply, permission, one in SPECS
]
BUILD_ACTIONS = [*BULK_BUILD_ACTIONS, *BUILD_ACTIONS]
ACTIONS_BY_NAME = {a.__name__: a for a in BUILD_ACTIONS}


def detail_action(name: str):
    """The change-page button for changelist action ``name``: the same form, for this build
    (``admin_customisations.actions.detail_from_form_action``)."""
    return detail_from_form_action(ACTIONS_BY_NAME[name])


DETAIL_GROUPS = [
    (
        "Order",
        ["issue_builds", "hold_builds", "set_build_quantity", "complete_builds", "cancel_builds"],
    ),
    ("Outputs", ["create_outputs", "complete_output", "scrap_output", "delete_output"]),
    (
        "Stock",
        [
            "allocate_stock",
            "unallocate_stock",
            "auto_allocate",
            "trim_allocations",
            "create_child_builds",
        ],
    ),
]
