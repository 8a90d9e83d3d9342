"""Changelist filters shared by the inventory admins."""

from django.db.models import Q
from unfold.contrib.filters.admin import DropdownFilter, RadioFilter

from inventory.models import PartCategory, StockLocation
from inventory.search import prefix_q
from inventory.selectors import has_stock_condition, low_stock_condition


class SubtreeFilter(DropdownFilter):
    """Filter by a tree node and everything below it (one prefix query)."""

    tree_model = None
    lookup = ""  # path to the tree node's tree_path from the filtered model

    def lookups(self, request, model_admin):
        return list(self.tree_model.objects.order_by("pathstring").values_list("pk", "pathstring"))

    def queryset(self, request, queryset):
        value = self.value()
        if not value or not str(value).isdigit():
            return queryset
        node = self.tree_model.objects.filter(pk=value).only("tree_path").first()
        if node is None:
            return queryset.none()
        # the nodes of the subtree by tree_path prefix (its index), then their members by FK
        nodes = self.tree_model.objects.filter(prefix_q("tree_path", node.tree_path))
        return queryset.filter(**{f"{self.lookup.removesuffix('__tree_path')}__in": nodes})


class PartCategorySubtreeFilter(SubtreeFilter):
    title = "category (incl. sub-categories)"
    parameter_name = "category"
    tree_model = PartCategory
    lookup = "category__tree_path"


class StockPartCategorySubtreeFilter(PartCategorySubtreeFilter):
    lookup = "part__category__tree_path"


class LocationSubtreeFilter(SubtreeFilter):
    title = "location (incl. sub-locations)"
    parameter_name = "location"
    tree_model = StockLocation
    lookup = "location__tree_path"


class YesNoFilter(RadioFilter):
    """A yes/no filter; subclasses define ``condition`` (a Q), or ``yes`` and ``no`` when the
    answer is a queryset method and its complement (a ``pk IN (...)`` subquery would list
    every matching id)."""

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def condition(self):
        raise NotImplementedError

    def yes(self, queryset):
        return queryset.filter(self.condition())

    def no(self, queryset):
        return queryset.exclude(self.condition())

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return self.yes(queryset)
        if self.value() == "no":
            return self.no(queryset)
        return queryset


class LowStockFilter(YesNoFilter):
    title = "low stock"
    parameter_name = "low_stock"

    def condition(self):
        return low_stock_condition()


class HasStockFilter(YesNoFilter):
    title = "has stock"
    parameter_name = "has_stock"

    def condition(self):
        return has_stock_condition()


class InStockFilter(YesNoFilter):
    title = "in stock"
    parameter_name = "in_stock"

    def yes(self, queryset):
        return queryset.in_stock()

    def no(self, queryset):
        return queryset.not_in_stock()


class ExpiredFilter(YesNoFilter):
    title = "expired"
    parameter_name = "expired"

    def yes(self, queryset):
        return queryset.expired()

    def no(self, queryset):
        return queryset.not_expired()


class ExpiresWithinFilter(RadioFilter):
    """In-stock items that expire within N days and have not expired yet
    (``StockItemQuerySet.expiring``); the dashboard's "expiring" figure links here."""

    title = "expires within"
    parameter_name = "expires_within"
    DAYS = (7, 30, 90)

    def lookups(self, request, model_admin):
        return [(str(days), f"{days} days") for days in self.DAYS]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit() and int(value) in self.DAYS:
            return queryset.expiring(int(value))
        return queryset


class SerializedFilter(YesNoFilter):
    title = "serialized"
    parameter_name = "serialized"

    def condition(self):
        return ~Q(serial="")
