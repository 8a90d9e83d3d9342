"""The part admin's BOM features: the BOM inline, the BOM page (multi-level explosion and
can-build), BOM figures in the part list, and the validate / copy actions (the part page's
"Used in" tab: builds/admin/part_tabs.py).

``inventory/admin/parts.py`` wires these into ``PartAdmin``.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.admin import TabularInline

from admin_customisations.actions import ActionForm, autocomplete, form_action
from builds.admin.bom_forms import (
    LINE_FIELDS,
    BomLineInlineForm,
    BomLineInlineFormSet,
    PrefetchedAutocompleteSelect,
)
from builds.models import BomItem
from builds.selectors import (
    available_quantities,
    bom_overview,
    explode_bom,
)
from builds.services.bom import bom_copy, bom_validate
from inventory.models import Part
from inventory.services.common import fmt

BOM_PREFIX = "bom_items"  # the inline formset's prefix (BomItem.part's related name)
_BOM_ROW_FIELD = re.compile(rf"^{BOM_PREFIX}-\d+-(sub_part|quantity)$")
# The BOM page shows the explosion and the roll-up of leaf parts a page at a time (the
# figures above them, totals and can-build, always cover the whole BOM): rendering thousands
# of rows, and the available stock of thousands of leaves, was the page's whole cost.
EXPLOSION_PAGE_SIZE = 200
LEAF_PAGE_SIZE = 100


# ---------------------------------------------------------------------------
# The BOM inline


class BomItemInline(TabularInline):
    """The assembly's own BOM lines. Read-only while the part is locked."""

    model = BomItem
    fk_name = "part"
    form = BomLineInlineForm
    formset = BomLineInlineFormSet
    fields = [*LINE_FIELDS, "validated"]
    readonly_fields = ["validated"]
    autocomplete_fields = ["sub_part"]
    extra = 0
    per_page = 50
    tab = True
    verbose_name = "BOM line"
    verbose_name_plural = "Bill of materials"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sub_part", "part")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sub_part":
            kwargs["widget"] = PrefetchedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request_user = request.user
        return formset

    def _editable(self, request, obj) -> bool:
        # A locked part shows its BOM read-only. A POST that still carries BOM rows (the
        # part was locked by someone else meanwhile, or a crafted request) is validated,
        # so the user gets the "locked" refusal instead of having the rows silently ignored.
        if obj is None or not obj.locked:
            return True
        return request.method == "POST" and any(_BOM_ROW_FIELD.match(k) for k in request.POST)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(request, obj)


# ---------------------------------------------------------------------------
# Figures on the part list and the part page


def annotate_bom_overview(parts) -> None:
    """Set ``part.bom_overview`` on the assemblies among ``parts`` (a fixed number of queries)."""
    assemblies = [part for part in parts if part.assembly]
    if not assemblies:
        return
    overview = bom_overview(assemblies)
    for part in assemblies:
        part.bom_overview = overview[part.pk]


def bom_page_url(part) -> str:
    return reverse("admin:inventory_part_bom", args=[part.pk])


def bom_lines_url(part) -> str:
    return f"{reverse('admin:builds_bomitem_changelist')}?part__id__exact={part.pk}"


def where_used_url(part) -> str:
    return f"{reverse('admin:builds_bomitem_changelist')}?sub_part__id__exact={part.pk}"


def bom_summary_html(part) -> str:
    """The part page's BOM box: lines, validation, can-build and links."""
    if part is None or part.pk is None:
        return "–"
    overview = bom_overview([part])[part.pk]
    return render_to_string(
        "builds/bom_summary.html",
        {
            "part": part,
            "overview": overview,
            "bom_page_url": bom_page_url(part),
            "bom_lines_url": bom_lines_url(part),
        },
    )


# ---------------------------------------------------------------------------
# The BOM page


def _explosion_quantity(request) -> tuple[Decimal, str | None]:
    text = request.GET.get("quantity", "1").strip() or "1"
    try:
        quantity = Decimal(text)
    except (InvalidOperation, ValueError):
        return Decimal(1), f"'{text}' is not a number: showing 1."
    if not quantity.is_finite() or quantity <= 0 or quantity >= 10**9:
        return Decimal(1), "The quantity must be a positive number: showing 1."
    return quantity, None


def _flags(row) -> list[str]:
    flags = []
    line = row.bom_item
    if line.optional:
        flags.append("optional")
    if line.consumable:
        flags.append("consumable")
    if line.allow_variants:
        flags.append("variants allowed")
    if row.inherited_from is not None:
        flags.append(f"inherited from {row.inherited_from.name}")
    if row.recursive:
        flags.append("loop: not expanded")
    return flags


def _page(request, param: str, items: list, size: int) -> dict:
    """One page of ``items`` (``?<param>=N``, 1-based; out-of-range numbers clamp) with
    links to the neighbouring pages that keep the other query parameters."""
    count = len(items)
    pages = max((count + size - 1) // size, 1)
    try:
        number = min(max(int(request.GET.get(param, "1")), 1), pages)
    except ValueError:
        number = 1
    start = (number - 1) * size

    def link(n):
        query = request.GET.copy()
        query[param] = str(n)
        return f"?{query.urlencode()}"

    return {
        "items": items[start : start + size],
        "number": number,
        "pages": pages,
        "first": start + 1 if count else 0,
        "last": min(start + size, count),
        "count": count,
        "previous_url": link(number - 1) if number > 1 else None,
        "next_url": link(number + 1) if number < pages else None,
    }


def bom_page(model_admin, request, object_id):
    """``/admin/inventory/part/<id>/bom/``: validation state, can-build, the exploded
    multi-level BOM for a quantity, the roll-up of leaf parts, and "Validate BOM"."""
    part = model_admin.get_object(request, unquote(object_id))
    if part is None:
        raise Http404("No such part.")
    if not model_admin.has_view_permission(request, part):
        raise PermissionDenied
    can_validate = model_admin.has_change_permission(request, part)
    if request.method == "POST":
        if not can_validate:
            raise PermissionDenied
        try:
            bom_validate(part=part, user=request.user)
        except ValidationError as error:
            model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            model_admin.message_user(request, f"The BOM of {part} is validated.", messages.SUCCESS)
        return redirect(request.get_full_path())
    quantity, problem = _explosion_quantity(request)
    if problem:
        model_admin.message_user(request, problem, messages.WARNING)
    explosion = explode_bom(part, quantity)
    overview = bom_overview([part])[part.pk]
    # one reverse() for every row's link (reverse per row was a tenth of the page)
    part_url = reverse("admin:inventory_part_change", args=["__pk__"])
    row_page = _page(request, "rows", explosion.rows, EXPLOSION_PAGE_SIZE)
    rows = [
        {
            "level": row.level,
            "indent": f"{(row.level - 1) * 1.5:g}",
            "part": row.part,
            "url": part_url.replace("__pk__", str(row.part.pk)),
            "reference": row.bom_item.reference,
            "quantity_per": fmt(row.quantity_per),
            "quantity": fmt(row.quantity),
            "expanded": row.expanded,
            "flags": _flags(row),
        }
        for row in row_page["items"]
    ]
    leaf_page = _page(request, "leaves", explosion.leaves, LEAF_PAGE_SIZE)
    available = available_quantities([leaf.part.pk for leaf in leaf_page["items"]])
    leaves = []
    for leaf in leaf_page["items"]:
        has = available.get(leaf.part.pk, Decimal(0))
        leaves.append(
            {
                "part": leaf.part,
                "url": part_url.replace("__pk__", str(leaf.part.pk)),
                "quantity": fmt(leaf.quantity),
                "available": fmt(has),
                "short": fmt(max(leaf.quantity - has, Decimal(0))),
                "is_short": leaf.quantity > has and not (leaf.consumable or leaf.optional),
                "flags": [
                    f
                    for f, on in (("optional", leaf.optional), ("consumable", leaf.consumable))
                    if on
                ],
                "lines": leaf.lines,
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Bill of materials: {part}",
        "subtitle": None,
        "opts": Part._meta,
        "part": part,
        "overview": overview,
        "quantity": fmt(quantity),
        "rows": rows,
        "row_page": row_page,
        "row_count": len(explosion.rows),
        "depth": explosion.depth,
        "leaves": leaves,
        "leaf_page": leaf_page,
        "can_validate": can_validate,
        "change_url": reverse("admin:inventory_part_change", args=[part.pk]),
        "bom_lines_url": bom_lines_url(part),
    }
    return TemplateResponse(request, "builds/bom_page.html", context)


# ---------------------------------------------------------------------------
# Part list actions


class ValidateBomForm(ActionForm):
    def clean_selection(self, queryset):
        others = queryset.filter(assembly=False)
        if others.exists():
            names = ", ".join(str(p) for p in others[:5])
            raise ValidationError(f"Only assemblies have a BOM to validate (not: {names}).")


def validate_each(part, *, user, data):
    bom_validate(part=part, user=user)


class CopyBomForm(ActionForm):
    source = forms.ModelChoiceField(
        Part.objects.filter(assembly=True),
        widget=autocomplete(BomItem, "part"),
        label="Copy the BOM of",
    )
    include_substitutes = forms.BooleanField(required=False, initial=True)
    include_inherited = forms.BooleanField(
        required=False,
        label="Include inherited lines",
        help_text="Also copy the lines the source inherits from its templates.",
    )
    clear = forms.BooleanField(
        required=False,
        label="Replace the existing lines",
        help_text="Remove the selected part's own lines first (inherited lines stay).",
    )

    def clean_selection(self, queryset):
        part = queryset.first()
        if part is not None and not part.assembly:
            raise ValidationError(f"'{part}' is not an assembly, so it cannot have a BOM.")


def apply_copy(*, request, queryset, data):
    target = queryset.get()
    created = bom_copy(
        source=data["source"],
        target=target,
        user=request.user,
        include_inherited=data["include_inherited"],
        include_substitutes=data["include_substitutes"],
        clear=data["clear"],
    )
    return f"Copied {len(created)} BOM lines from {data['source']} to {target}."


PART_BOM_ACTIONS = [
    form_action(
        name="validate_bom",
        description="Validate BOM",
        form_class=ValidateBomForm,
        each=validate_each,
        summary=lambda n, d: f"Validated the BOM of {n} part{'' if n == 1 else 's'}.",
    ),
    form_action(
        name="copy_bom",
        description="Copy BOM from another part",
        form_class=CopyBomForm,
        apply=apply_copy,
        one_at_a_time=True,
    ),
]


def bom_status_text(part) -> tuple[str, str, str] | None:
    """(label kind, badge text, note) for the part list's BOM column: "can build N" in green
    when the BOM is validated, orange when it is not, with the validation as the note."""
    overview = getattr(part, "bom_overview", None)
    if overview is None:
        return None
    if not overview.lines:
        return "info", "no BOM", ""
    if overview.is_valid:
        return "success", f"can build {overview.can_build}", "validated"
    return "warning", f"can build {overview.can_build}", "not validated"
