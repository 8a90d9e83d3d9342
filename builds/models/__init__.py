"""Build models, re-exported: ``from builds.models import BomItem``."""

from builds.models.bom import BomItem, BomItemSubstitute
from builds.models.build import BuildItem, BuildLine, BuildOrder

__all__ = ["BomItem", "BomItemSubstitute", "BuildItem", "BuildLine", "BuildOrder"]
