"""Sourcing inlines: a part's supplier and manufacturer parts, a company's supplied and
manufactured parts, a supplier part's price breaks.

``PartSupplierPartInline`` and ``PartManufacturerPartInline`` are meant for the part admin
(``PartAdmin.inlines``); they are tabs on the part's page.
"""

from django import forms
from django.core.exceptions import ValidationError
from unfold.admin import TabularInline

from admin_customisations.actions import add_service_error
from orders.models import ManufacturerPart, SupplierPart, SupplierPriceBreak
from orders.services.companies import manufacturer_part_check, supplier_part_check


class CheckedModelForm(forms.ModelForm):
    """A model form that also applies a service's domain check (``check(instance)``) to the
    instance, showing its refusals against the fields they concern."""

    check = None

    def _post_clean(self):
        super()._post_clean()
        check = type(self).check
        if check is None or (self.instance.pk and not self.has_changed()):
            return
        try:
            check(self.instance)
        except ValidationError as error:
            add_service_error(self, error)


def checked_form(check, model):
    """A CheckedModelForm class for ``model`` applying ``check``."""
    meta = type("Meta", (), {"model": model, "fields": "__all__"})
    return type(
        f"{model.__name__}CheckedForm",
        (CheckedModelForm,),
        {"Meta": meta, "check": staticmethod(check)},
    )


SupplierPartForm = checked_form(supplier_part_check, SupplierPart)
ManufacturerPartForm = checked_form(manufacturer_part_check, ManufacturerPart)


class _SourcingInline(TabularInline):
    extra = 0
    tab = True
    show_change_link = True


class PartSupplierPartInline(_SourcingInline):
    """Supplier parts of a part (for the part admin)."""

    model = SupplierPart
    form = SupplierPartForm
    fk_name = "part"
    fields = ["supplier", "sku", "manufacturer_part", "pack_quantity", "lead_time_days", "active"]
    autocomplete_fields = ["supplier", "manufacturer_part"]
    verbose_name_plural = "suppliers"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("supplier", "part", "manufacturer_part__manufacturer")
        )


class PartManufacturerPartInline(_SourcingInline):
    """Manufacturer parts of a part (for the part admin)."""

    model = ManufacturerPart
    form = ManufacturerPartForm
    fk_name = "part"
    fields = ["manufacturer", "mpn", "description", "link"]
    autocomplete_fields = ["manufacturer"]
    verbose_name_plural = "manufacturers"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("manufacturer", "part")


class CompanySupplierPartInline(_SourcingInline):
    """Parts a company supplies (for the company admin)."""

    model = SupplierPart
    form = SupplierPartForm
    fk_name = "supplier"
    fields = ["part", "sku", "manufacturer_part", "pack_quantity", "lead_time_days", "active"]
    autocomplete_fields = ["part", "manufacturer_part"]
    verbose_name_plural = "supplied parts"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("supplier", "part", "manufacturer_part__manufacturer")
        )


class CompanyManufacturerPartInline(_SourcingInline):
    """Parts a company manufactures (for the company admin)."""

    model = ManufacturerPart
    form = ManufacturerPartForm
    fk_name = "manufacturer"
    fields = ["part", "mpn", "description", "link"]
    autocomplete_fields = ["part"]
    verbose_name_plural = "manufactured parts"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("manufacturer", "part")


class SupplierPriceBreakInline(TabularInline):
    """Price breaks of a supplier part: unit price per pack from a quantity (in packs) upwards."""

    model = SupplierPriceBreak
    fields = ["quantity", "price", "currency"]
    extra = 0
    tab = True
    verbose_name_plural = "price breaks"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None and obj.supplier_id:
            # new breaks default to the supplier's currency (the form class is built per call)
            formset.form.base_fields["currency"].initial = obj.supplier.currency
        return formset
