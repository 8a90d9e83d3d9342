"""Part category admin: tree navigation with part counts per subtree."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import display

from inventory.admin.subscription_actions import CATEGORY_SUBSCRIPTION_ACTIONS
from inventory.admin.tree import TreeAdmin
from inventory.models import PartCategory
from inventory.selectors import annotate_category_counts
from inventory.services.parts import part_category_delete


@admin.register(PartCategory)
class PartCategoryAdmin(TreeAdmin):
    list_display = ["indented_name", "description", "parts_link", "children_link", "structural"]
    list_filter = ["structural", "level"]
    autocomplete_fields = ["parent", "default_location"]
    fields = [
        "breadcrumbs",
        "name",
        "description",
        "parent",
        "structural",
        "default_location",
        "default_keywords",
        "child_links",
    ]
    actions = CATEGORY_SUBSCRIPTION_ACTIONS
    count_field = "part_count"
    count_label = "parts"
    annotate_counts = staticmethod(annotate_category_counts)

    @display(description="parts (incl. sub-categories)")
    def parts_link(self, category):
        url = reverse("admin:inventory_part_changelist")
        return format_html('<a href="{}?category={}">{}</a>', url, category.pk, category.part_count)

    def delete_model(self, request, obj):
        part_category_delete(category=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for category in queryset.order_by("-level"):
            part_category_delete(category=category, user=request.user)
