from django.apps import AppConfig


class BuildsConfig(AppConfig):
    name = "builds"
    verbose_name = "BOMs & builds"

    def ready(self):
        from django.db.models import Q

        from builds.choices import ACTIVE_BUILD_STATUSES
        from builds.models import BuildOrder
        from inventory.allocations import AllocationSource, register_allocation_source
        from inventory.responsibility import track_responsibility

        track_responsibility(BuildOrder)

        # Allocations of active builds hold stock until the build consumes or releases it.
        register_allocation_source(
            AllocationSource(
                model="builds.BuildItem",
                item_field="stock_item",
                holding=Q(build_line__build__status__in=ACTIVE_BUILD_STATUSES),
            )
        )
