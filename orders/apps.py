from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Companies & orders"

    def ready(self):
        from django.db.models import Q

        from inventory.allocations import AllocationSource, register_allocation_source
        from inventory.responsibility import track_responsibility
        from orders.choices import SALES_OPEN
        from orders.models import PurchaseOrder, ReturnOrder, SalesOrder

        for model in (PurchaseOrder, SalesOrder, ReturnOrder):
            track_responsibility(model)

        # Sales allocations hold stock until their shipment ships (then the stock leaves).
        register_allocation_source(
            AllocationSource(
                model="orders.SalesOrderAllocation",
                item_field="item",
                holding=Q(line__order__status__in=SALES_OPEN)
                & (Q(shipment__isnull=True) | Q(shipment__shipment_date__isnull=True)),
            )
        )
