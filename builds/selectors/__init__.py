"""Builds read side: ``from builds.selectors import can_build``.

One line per module; each module lists what it exports.
"""

from builds.selectors.bom import (  # noqa: F401
    BomLine,
    BomOverview,
    ExplodedRow,
    Explosion,
    LeafTotal,
    PartRef,
    allocated_quantities,
    available_quantities,
    bom_checksum,
    bom_checksums,
    bom_lines,
    bom_overview,
    can_build,
    can_build_many,
    explode_bom,
    find_bom_recursion,
    is_bom_valid,
    overage_quantity,
    required_quantity,
    template_ancestors,
    valid_allocation_part_ids,
    valid_allocation_part_ids_many,
    variant_ids,
    where_used,
)
from builds.selectors.build import *  # noqa: F403 - build order reads (see its __all__)
