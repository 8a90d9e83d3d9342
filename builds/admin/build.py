"""Build order admin: list with progress and badges, create/edit through the services,
a change page with lines, allocations, outputs and child builds, and one action per service."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.contrib.filters.admin import AutocompleteSelectFilter, DropdownFilter
from unfold.decorators import display

from admin_customisations.actions import dry_run
from admin_customisations.base import ResponsibleAdminMixin, StockroomModelAdmin
from builds.admin.build_actions import BUILD_ACTIONS, DETAIL_GROUPS, detail_action
from builds.choices import BUILD_STATUS_COLOURS, BuildStatus
from builds.models import BuildOrder
from builds.selectors.build import (
    build_allocations,
    build_line_rows,
    build_outputs,
    builds_with_progress,
)
from builds.services.build import (
    EDITABLE_FIELDS,
    build_order_create,
    build_order_delete,
    build_order_set_quantity,
    build_order_update,
)
from builds.services.references import next_reference
from inventory.admin.filters import YesNoFilter
from inventory.models import StockItem
from inventory.services.common import fmt

CREATE_FIELDS = [
    "reference",
    "part",
    "quantity",
    "title",
    "take_from",
    "destination",
    "parent",
    "sales_order",
    "target_date",
    "batch",
    "responsible_user",
    "responsible_group",
    "notes",
]
CHANGE_FIELDS = ["quantity", *EDITABLE_FIELDS]


class BuildOrderCreateForm(forms.ModelForm):
    """Creating a build goes through ``build_order_create`` (reference, lines from the BOM)."""

    reference = forms.CharField(required=False, max_length=64)

    class Meta:
        model = BuildOrder
        fields = CREATE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            example = next_reference()[0]
        except ImproperlyConfigured:  # reported by the dry run on save
            example = "BO-0001"
        self.fields["reference"].help_text = f"Leave empty for the next one ({example})."

    def service_kwargs(self, user) -> dict:
        data = self.cleaned_data
        kwargs = {f: data.get(f) for f in CREATE_FIELDS}
        for text in ("title", "batch", "notes", "reference"):
            kwargs[text] = kwargs[text] or ""
        return {**kwargs, "user": user}

    def _post_clean(self):
        # Validation is the service's (dry run in clean()); this form's instance is not saved.
        pass

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("part") and data.get("quantity") is not None:
            dry_run(self, lambda: build_order_create(**self.service_kwargs(self.user)))
        return data


class BuildOrderChangeForm(forms.ModelForm):
    """Edits go through ``build_order_set_quantity`` and ``build_order_update``."""

    class Meta:
        model = BuildOrder
        fields = CHANGE_FIELDS

    def apply(self, build, user):
        data = self.cleaned_data
        if "quantity" in data and data["quantity"] != build.quantity:
            build = build_order_set_quantity(build=build, quantity=data["quantity"], user=user)
        changes = {f: data[f] for f in EDITABLE_FIELDS if f in data}
        return build_order_update(build=build, user=user, **changes)

    def clean(self):
        data = super().clean()
        if not self.errors and self.instance.pk:
            stored = BuildOrder.objects.get(pk=self.instance.pk)
            dry_run(self, lambda: self.apply(stored, self.user))
        return data


class OverdueFilter(YesNoFilter):
    title = "overdue"
    parameter_name = "overdue"

    def condition(self):
        return Q(overdue=True)


class ResponsibleFilter(DropdownFilter):
    """Builds a user is responsible for (directly or through a group), or a group's builds."""

    title = "responsible"
    parameter_name = "responsible"

    def lookups(self, request, model_admin):
        users = (
            BuildOrder.objects.filter(responsible_user__isnull=False)
            .order_by("responsible_user__username")
            .values_list("responsible_user", "responsible_user__username")
            .distinct()
        )
        groups = (
            BuildOrder.objects.filter(responsible_group__isnull=False)
            .order_by("responsible_group__name")
            .values_list("responsible_group", "responsible_group__name")
            .distinct()
        )
        return [
            ("me", "Me (or my groups)"),
            *((f"user-{pk}", name) for pk, name in users),
            *((f"group-{pk}", f"Group: {name}") for pk, name in groups),
        ]

    def queryset(self, request, queryset):
        value = self.value() or ""
        if value == "me":
            return queryset.filter(
                Q(responsible_user=request.user)
                | Q(responsible_group__in=request.user.groups.all())
            )
        kind, _, pk = value.partition("-")
        if not pk.isdigit():
            return queryset
        if kind == "user":
            return queryset.filter(responsible_user=pk)
        if kind == "group":
            return queryset.filter(responsible_group=pk)
        return queryset


def _table(headers, rows, empty):
    return render_to_string(
        "builds/build_table.html", {"headers": headers, "rows": rows, "empty": empty}
    )


def _item_link(item, text=None):
    url = reverse("admin:inventory_stockitem_change", args=[item.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(item))


@admin.register(BuildOrder)
class BuildOrderAdmin(ResponsibleAdminMixin, StockroomModelAdmin):
    list_display = [
        "reference",
        "part",
        "title",
        "progress_bar",
        "status_badge",
        "overdue_badge",
        "target_date",
        "responsible",
    ]
    list_display_links = ["reference"]
    list_select_related = ["part", "responsible_user", "responsible_group"]
    list_filter = [
        "status",
        ("part", AutocompleteSelectFilter),
        OverdueFilter,
        ResponsibleFilter,
    ]
    search_fields = ["reference", "title", "part__name", "part__ipn", "batch"]
    search_help_text = "Reference, title, part name or IPN, batch code"
    ordering = ["-reference_int"]
    autocomplete_fields = [
        "part",
        "sales_order",
        "take_from",
        "destination",
        "parent",
        "responsible_user",
        "responsible_group",
    ]
    actions = BUILD_ACTIONS
    actions_detail = [
        {"title": title, "items": [f"detail_{name}" for name in names]}
        for title, names in DETAIL_GROUPS
    ]
    readonly_fields = [
        "reference",
        "part",
        "status_label",
        "progress_bar",
        "completed",
        "in_production",
        "created_at",
        "issued_by",
        "completed_at",
        "completed_by",
        "lines_table",
        "allocations_table",
        "outputs_table",
        "children_table",
    ]
    fieldsets = [
        (None, {"fields": ["reference", "part", "quantity", "title", "status_label"]}),
        (
            "Progress",
            {
                "fields": [
                    "progress_bar",
                    "completed",
                    "in_production",
                    "created_at",
                    "issued_by",
                    "completed_at",
                    "completed_by",
                ]
            },
        ),
        ("Where", {"fields": ["take_from", "destination", "batch"]}),
        (
            "Planning",
            {
                "fields": [
                    "parent",
                    "sales_order",
                    "target_date",
                    "responsible_user",
                    "responsible_group",
                    "notes",
                ]
            },
        ),
        ("Lines (required / allocated / available)", {"fields": ["lines_table"]}),
        ("Allocations", {"fields": ["allocations_table"]}),
        ("Outputs", {"fields": ["outputs_table"]}),
        ("Child builds", {"fields": ["children_table"]}),
    ]

    # change-page buttons: the changelist actions' forms, for this build
    detail_issue_builds = detail_action("issue_builds")
    detail_hold_builds = detail_action("hold_builds")
    detail_set_build_quantity = detail_action("set_build_quantity")
    detail_complete_builds = detail_action("complete_builds")
    detail_cancel_builds = detail_action("cancel_builds")
    detail_create_outputs = detail_action("create_outputs")
    detail_complete_output = detail_action("complete_output")
    detail_scrap_output = detail_action("scrap_output")
    detail_delete_output = detail_action("delete_output")
    detail_allocate_stock = detail_action("allocate_stock")
    detail_unallocate_stock = detail_action("unallocate_stock")
    detail_auto_allocate = detail_action("auto_allocate")
    detail_trim_allocations = detail_action("trim_allocations")
    detail_create_child_builds = detail_action("create_child_builds")

    # -- permissions of the custom actions (see BuildOrder.Meta.permissions) ------------

    def has_issue_permission(self, request, obj=None):
        return request.user.has_perm("builds.issue_buildorder")

    def has_allocate_permission(self, request, obj=None):
        return request.user.has_perm("builds.allocate_buildorder")

    def has_complete_permission(self, request, obj=None):
        return request.user.has_perm("builds.complete_buildorder")

    def has_add_child_permission(self, request, obj=None):
        return self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None:
            return True
        return not (
            StockItem.objects.filter(Q(build=obj) | Q(consumed_by=obj)).exists()
            or obj.status == BuildStatus.COMPLETE
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting goes through build_order_delete
        return actions

    # -- queryset, forms, saving --------------------------------------------------------

    def get_queryset(self, request):
        return builds_with_progress(super().get_queryset(request))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = BuildOrderCreateForm
            kwargs["fields"] = CREATE_FIELDS
        else:
            kwargs["form"] = BuildOrderChangeForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": CREATE_FIELDS})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            stored = BuildOrder.objects.get(pk=obj.pk)
            saved = form.apply(stored, request.user)
        else:
            saved = build_order_create(**form.service_kwargs(request.user))
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines: everything was saved by the service

    def delete_model(self, request, obj):
        build_order_delete(build=obj, user=request.user)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("quantity", 1)
        return initial

    # -- list columns -------------------------------------------------------------------

    @display(description="progress", ordering="progress")
    def progress_bar(self, build):
        percent = getattr(build, "progress", None)
        if percent is None:
            percent = min(build.completed * 100 // build.quantity, 100) if build.quantity else 0
        return render_to_string(
            "unfold/components/progress.html",
            {"value": percent, "description": f"{build.completed} / {build.quantity}"},
        )

    @display(
        description="status",
        ordering="status",
        label={s.label: colour for s, colour in BUILD_STATUS_COLOURS.items()},
    )
    def status_badge(self, build):
        return build.get_status_display()

    @display(description="status")
    def status_label(self, build):
        """The status badge (and the overdue badge) on the change page."""
        badges = [(build.get_status_display(), BUILD_STATUS_COLOURS.get(build.status))]
        if build.is_overdue:
            badges.append(("Overdue", "danger"))
        return format_html_join(
            " ",
            "{}",
            (
                (render_to_string("unfold/helpers/label.html", {"text": text, "type": colour}),)
                for text, colour in badges
            ),
        )

    @display(description="overdue", ordering="target_date", label={"Overdue": "danger"})
    def overdue_badge(self, build):
        overdue = getattr(build, "overdue", None)
        if overdue is None:
            overdue = build.is_overdue
        return "Overdue" if overdue else ""

    @display(description="responsible")
    def responsible(self, build):
        names = []
        if build.responsible_user_id:
            names.append(build.responsible_user.get_username())
        if build.responsible_group_id:
            names.append(f"Group: {build.responsible_group.name}")
        return ", ".join(names) or "–"

    # -- change page tables ---------------------------------------------------------------

    @display(description="in production")
    def in_production(self, build):
        return fmt(getattr(build, "in_production", 0) or 0)

    @display(description="lines")
    def lines_table(self, build):
        rows = [
            [
                str(row.line.bom_item.sub_part),
                "yes" if row.line.bom_item.sub_part.trackable else "",
                fmt(row.required),
                fmt(row.allocated),
                fmt(row.consumed),
                fmt(row.available),
                "✓" if row.fully_allocated else fmt(row.outstanding) + " to allocate",
            ]
            for row in build_line_rows(build)
        ]
        return _table(
            ["Component", "Trackable", "Required", "Allocated", "Used", "Available", ""],
            rows,
            "This build has no lines (the part has no BOM).",
        )

    @display(description="allocations")
    def allocations_table(self, build):
        rows = [
            [
                str(a.build_line.bom_item.sub_part),
                _item_link(a.stock_item),
                a.stock_item.location.pathstring if a.stock_item.location_id else "–",
                fmt(a.quantity),
                _item_link(a.install_into) if a.install_into_id else "–",
            ]
            for a in build_allocations(build)
        ]
        return _table(
            ["Line", "Stock item", "Location", "Quantity", "Into output"],
            rows,
            "No stock is allocated.",
        )

    @display(description="outputs")
    def outputs_table(self, build):
        rows = [
            [
                _item_link(o, f"#{o.pk}"),
                o.serial or "–",
                fmt(o.quantity),
                "in production" if o.is_building else o.get_status_display(),
                o.location.pathstring if o.location_id else "–",
            ]
            for o in build_outputs(build)
        ]
        return _table(
            ["Output", "Serial", "Quantity", "State", "Location"], rows, "No outputs yet."
        )

    @display(description="child builds")
    def children_table(self, build):
        rows = [
            [
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:builds_buildorder_change", args=[child.pk]),
                    child.reference,
                ),
                str(child.part),
                f"{child.completed} / {child.quantity}",
                child.get_status_display(),
            ]
            for child in build.children.select_related("part").order_by("reference_int")
        ]
        return _table(["Reference", "Part", "Built", "Status"], rows, "No child builds.")
