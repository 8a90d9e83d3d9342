"""Company admin."""

from django.contrib import admin

from admin_customisations.base import StockroomModelAdmin
from orders.models import Company


@admin.register(Company)
class CompanyAdmin(StockroomModelAdmin):
    list_display = [
        "name",
        "email",
        "phone",
        "currency",
        "is_supplier",
        "is_manufacturer",
        "is_customer",
        "active",
    ]
    list_filter = ["is_supplier", "is_manufacturer", "is_customer", "active"]
    search_fields = ["name", "description", "email"]
