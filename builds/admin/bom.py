"""BOM line admin: every line of every assembly, with filters (incl. "where used"),
create/edit/delete through the BOM services, and the substitutes inline."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter
from unfold.decorators import display

from admin_customisations.actions import ActionForm, form_action
from admin_customisations.base import StockroomModelAdmin
from builds.admin.bom_forms import (
    LINE_FIELDS,
    BomItemAdminForm,
    PrefetchedAutocompleteSelect,
    SubstituteInlineForm,
    SubstituteInlineFormSet,
)
from builds.models import BomItem, BomItemSubstitute
from builds.selectors import where_used
from builds.services.bom import (
    bom_item_create,
    bom_item_delete,
    bom_item_update,
    check_bom_item_deletable,
)
from inventory.models import Part
from inventory.services.common import fmt


class AssemblyFilter(AutocompleteSelectFilter):
    title = "assembly"


class WhereUsedFilter(AutocompleteSelectFilter):
    """Lines using a part: as their component, as an allowed variant, or as a substitute."""

    title = "uses part (where used)"

    def queryset(self, request, queryset):
        value = self.value()
        if not value or not str(value).isdigit():
            return queryset
        part = Part.objects.filter(pk=value).first()
        if part is None:
            return queryset.none()
        return queryset.filter(pk__in=where_used(part).values("pk"))


class SubstituteInline(TabularInline):
    model = BomItemSubstitute
    form = SubstituteInlineForm
    formset = SubstituteInlineFormSet
    fields = ["part"]
    autocomplete_fields = ["part"]
    extra = 0
    verbose_name = "substitute"
    verbose_name_plural = "Substitutes (may be used instead of the component)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("part", "bom_item__sub_part")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "part":
            kwargs["widget"] = PrefetchedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request_user = request.user
        return formset


class DeleteLinesForm(ActionForm):
    pass


def apply_delete(*, request, queryset, data):
    lines = list(queryset.select_related("part", "sub_part"))
    for line in lines:
        try:
            bom_item_delete(bom_item=line, user=request.user)
        except ValidationError as error:
            error.item_prefix = f"{line}: "
            raise
    return f"Removed {len(lines)} BOM line{'' if len(lines) == 1 else 's'}."


@admin.register(BomItem)
class BomItemAdmin(StockroomModelAdmin):
    form = BomItemAdminForm
    list_display = [
        "assembly",
        "component",
        "quantity_display",
        "reference",
        "flags",
        "validated",
    ]
    list_display_links = ["quantity_display"]
    list_select_related = ["part", "sub_part"]
    list_filter = [
        ("part", AssemblyFilter),
        ("sub_part", WhereUsedFilter),
        "optional",
        "consumable",
        "inherited",
        "allow_variants",
        "validated",
    ]
    search_fields = ["part__name", "part__ipn", "sub_part__name", "sub_part__ipn", "reference"]
    search_help_text = "Assembly or component name or IPN, reference designator"
    autocomplete_fields = ["part", "sub_part"]
    inlines = [SubstituteInline]
    actions = [
        form_action(
            name="delete_lines",
            description="Remove the selected lines from their BOMs",
            form_class=DeleteLinesForm,
            apply=apply_delete,
            permission="delete",
        )
    ]
    fieldsets = [
        (None, {"fields": ["part", "sub_part", "quantity", "reference", "overage"]}),
        ("Flags", {"fields": ["optional", "consumable", "allow_variants", "inherited"]}),
        ("Notes", {"fields": ["note", "validated"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("part", "sub_part")

    def get_readonly_fields(self, request, obj=None):
        return ["validated"] if obj is None else ["part", "validated"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting goes through the service (locks, builds)
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            changes = {n: form.cleaned_data[n] for n in form.changed_data if n in LINE_FIELDS}
            if changes:
                bom_item_update(bom_item=obj, user=request.user, **changes)
            obj.refresh_from_db()
            return
        created = bom_item_create(user=request.user, **form.create_kwargs())
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    def save_formset(self, request, form, formset, change):
        if hasattr(formset, "save_through_services"):
            formset.save_through_services(request.user)
        else:
            super().save_formset(request, form, formset, change)

    def delete_view(self, request, object_id, extra_context=None):
        line = self.get_object(request, unquote(object_id))
        if line is not None:
            try:
                check_bom_item_deletable(line)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return redirect(reverse("admin:builds_bomitem_change", args=[line.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        bom_item_delete(bom_item=obj, user=request.user)

    @display(description="assembly", ordering="part__name")
    def assembly(self, line):
        return str(line.part)

    @display(description="component", ordering="sub_part__name")
    def component(self, line):
        return str(line.sub_part)

    @display(description="quantity", ordering="quantity")
    def quantity_display(self, line):
        return fmt(line.quantity)

    @display(description="flags")
    def flags(self, line):
        names = [
            name.replace("_", " ")
            for name in ("optional", "consumable", "inherited", "allow_variants")
            if getattr(line, name)
        ]
        return ", ".join(names) or "–"
