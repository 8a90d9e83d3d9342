"""Company admin (tabs: contacts, addresses, supplied and manufactured parts, purchase
orders), and the contact and address admins (for autocomplete and direct editing)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import StackedInline, TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter
from unfold.decorators import display

from admin_customisations.base import StockroomModelAdmin
from orders.admin.sourcing_inlines import CompanyManufacturerPartInline, CompanySupplierPartInline
from orders.choices import ORDER_STATUS_COLOURS
from orders.models import Address, Company, Contact, PurchaseOrder, ReturnOrder, SalesOrder
from orders.selectors.companies import companies_with_counts
from orders.services.companies import (
    address_delete,
    address_ensure_primary,
    address_save,
    address_set_primary,
)


class AddressForm(forms.ModelForm):
    """The one-primary rule is applied by the address services (which un-mark the previous
    primary address), so the database constraint is not checked against the old state here."""

    class Meta:
        model = Address
        fields = [
            "company",
            "title",
            "primary",
            "line1",
            "line2",
            "postal_code",
            "city",
            "province",
            "country",
            "shipping_notes",
        ]

    def _get_validation_exclusions(self):
        return {*super()._get_validation_exclusions(), "company"}


class AddressFormSet(forms.BaseInlineFormSet):
    def kept_forms(self):
        return [
            f
            for f in self.forms
            if f.has_changed() or f.instance.pk
            if not (self.can_delete and self._should_delete_form(f))
        ]

    def clean(self):
        super().clean()
        primaries = [f for f in self.kept_forms() if f.cleaned_data.get("primary")]
        if len(primaries) > 1:
            raise ValidationError("Only one address can be primary: untick the others.")

    def primary_form(self):
        return next((f for f in self.kept_forms() if f.cleaned_data.get("primary")), None)


class ContactInline(TabularInline):
    model = Contact
    fields = ["name", "role", "email", "phone"]
    extra = 0
    tab = True


class AddressInline(StackedInline):
    model = Address
    form = AddressForm
    formset = AddressFormSet
    fields = [
        ("title", "primary"),
        ("line1", "line2"),
        ("postal_code", "city"),
        ("province", "country"),
        "shipping_notes",
    ]
    extra = 0
    tab = True


class PurchaseOrderInline(TabularInline):
    """The company's purchase orders (read-only; newest first)."""

    model = PurchaseOrder
    fk_name = "supplier"
    fields = ["reference", "status_badge", "description", "target_date", "issue_date"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    tab = True
    verbose_name_plural = "purchase orders"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-reference_int")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="status", label=ORDER_STATUS_COLOURS)
    def status_badge(self, order):
        return order.get_status_display()


class SalesOrderInline(PurchaseOrderInline):
    """The company's sales orders (read-only; newest first)."""

    model = SalesOrder
    fk_name = "customer"
    fields = ["reference", "status_badge", "description", "target_date", "shipment_date"]
    readonly_fields = fields
    verbose_name_plural = "sales orders"


class ReturnOrderInline(PurchaseOrderInline):
    """The company's return orders (read-only; newest first)."""

    model = ReturnOrder
    fk_name = "customer"
    fields = ["reference", "status_badge", "description", "target_date", "complete_date"]
    readonly_fields = fields
    verbose_name_plural = "return orders"


@admin.register(Company)
class CompanyAdmin(StockroomModelAdmin):
    list_display = [
        "name",
        "roles",
        "email",
        "phone",
        "currency",
        "supplier_parts",
        "open_orders",
        "active",
    ]
    list_filter = ["is_supplier", "is_manufacturer", "is_customer", "active"]
    search_fields = ["name", "description", "email"]
    fieldsets = [
        (None, {"fields": ["name", "description", "website", "email", "phone", "currency"]}),
        ("Roles", {"fields": ["is_supplier", "is_manufacturer", "is_customer", "active"]}),
    ]
    inlines = [
        ContactInline,
        AddressInline,
        CompanySupplierPartInline,
        CompanyManufacturerPartInline,
        PurchaseOrderInline,
        SalesOrderInline,
        ReturnOrderInline,
    ]

    def get_queryset(self, request):
        return companies_with_counts(super().get_queryset(request))

    def get_inlines(self, request, obj):
        """Order tabs only for the roles the company has (a supplier has no sales orders)."""
        hidden = set()
        if obj is not None and not obj.is_supplier:
            hidden.add(PurchaseOrderInline)
        if obj is not None and not obj.is_customer:
            hidden |= {SalesOrderInline, ReturnOrderInline}
        return [inline for inline in super().get_inlines(request, obj) if inline not in hidden]

    @display(description="roles", label=True)
    def roles(self, company):
        names = [
            label
            for flag, label in (
                ("is_supplier", "supplier"),
                ("is_manufacturer", "manufacturer"),
                ("is_customer", "customer"),
            )
            if getattr(company, flag)
        ]
        return names or "–"

    @display(description="supplier parts", ordering="supplier_part_count")
    def supplier_parts(self, company):
        if not company.supplier_part_count:
            return "–"
        url = reverse("admin:orders_supplierpart_changelist")
        return format_html(
            '<a href="{}?supplier__id__exact={}">{}</a>',
            url,
            company.pk,
            company.supplier_part_count,
        )

    @display(description="open purchase orders", ordering="open_purchase_orders")
    def open_orders(self, company):
        if not company.open_purchase_orders:
            return "–"
        url = reverse("admin:orders_purchaseorder_changelist")
        return format_html(
            '<a href="{}?supplier__id__exact={}">{}</a>',
            url,
            company.pk,
            company.open_purchase_orders,
        )

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, AddressFormSet):
            return super().save_formset(request, form, formset, change)
        # Rows un-marking the old primary must be saved before the new one is marked (the
        # database allows one primary per company at any moment): save the new primary as
        # non-primary first, then mark it through the service.
        chosen = formset.primary_form()
        if chosen is not None:
            chosen.instance.primary = False
        super().save_formset(request, form, formset, change)
        if chosen is not None:
            address_set_primary(address=chosen.instance, user=request.user)
        address_ensure_primary(company=form.instance, user=request.user)


@admin.register(Contact)
class ContactAdmin(StockroomModelAdmin):
    list_display = ["name", "company", "role", "email", "phone"]
    list_select_related = ["company"]
    list_filter = [("company", AutocompleteSelectFilter)]
    search_fields = ["name", "role", "email", "phone", "company__name"]
    autocomplete_fields = ["company"]


@admin.register(Address)
class AddressAdmin(StockroomModelAdmin):
    form = AddressForm
    list_display = ["title", "company", "primary", "line1", "postal_code", "city", "country"]
    list_select_related = ["company"]
    list_filter = ["primary", ("company", AutocompleteSelectFilter)]
    search_fields = ["title", "line1", "line2", "postal_code", "city", "country", "company__name"]
    autocomplete_fields = ["company"]

    def save_model(self, request, obj, form, change):
        address_save(address=obj, user=request.user)

    def delete_model(self, request, obj):
        address_delete(address=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for address in queryset:
            address_delete(address=address, user=request.user)
