from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Parts & stock"

    def ready(self):
        from inventory import figures
        from inventory.services import actors

        figures.connect()
        actors.connect()
