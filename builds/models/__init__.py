"""Build models, re-exported: ``from builds.models import BomItem``."""

from builds.models.bom import BomItem, BomItemSubstitute
from builds.models.build import BuildItem, BuildLine, BuildOrder
from builds.models.permissions import (
    BuildOrderGroupObjectPermission,
    BuildOrderUserObjectPermission,
)

__all__ = [
    "BuildOrderGroupObjectPermission",
    "BuildOrderUserObjectPermission",
    "BomItem",
    "BomItemSubstitute",
    "BuildItem",
    "BuildLine",
    "BuildOrder",
]
