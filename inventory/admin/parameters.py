"""Part parameter template admin."""

from django.contrib import admin

from admin_customisations.base import StockroomModelAdmin
from inventory.models import PartParameterTemplate


@admin.register(PartParameterTemplate)
class PartParameterTemplateAdmin(StockroomModelAdmin):
    list_display = ["name", "units", "checkbox", "choices", "description"]
    list_filter = ["checkbox"]
    search_fields = ["name", "description", "units"]
