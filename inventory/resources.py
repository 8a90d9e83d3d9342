"""Spreadsheet resources (django-import-export) for inventory models.

The full natural-key resources (category paths, IPNs, location paths) arrive
with the import/export work; until then these guard what the default
resources would let through: a row touching a location the importing user may
not change (stock ownership) is an error, and one error refuses the whole
import (IMPORT_EXPORT_USE_TRANSACTIONS).
"""

from django.core.exceptions import ValidationError
from import_export import resources

from inventory.models import StockLocation
from inventory.permissions import OwnershipRules


class StockLocationResource(resources.ModelResource):
    class Meta:
        model = StockLocation
        fields = ("id", "name", "description", "parent", "structural", "external")
        skip_unchanged = True
        report_skipped = True

    def import_data(self, *args, **kwargs):
        kwargs.setdefault("rollback_on_validation_errors", True)  # one refused row refuses the file
        return super().import_data(*args, **kwargs)

    def before_import(self, dataset, **kwargs):
        self._rules = OwnershipRules(kwargs.get("user"))

    def before_save_instance(self, instance, row, **kwargs):
        rules = getattr(self, "_rules", None) or OwnershipRules(kwargs.get("user"))
        targets = [instance.parent]
        if instance.pk:
            targets.append(StockLocation.objects.filter(pk=instance.pk).first())
        for location in targets:
            if location is not None and not rules.may_change_path(location.tree_path):
                raise ValidationError(
                    f"You do not own '{location.pathstring}', so this import cannot change it."
                )
