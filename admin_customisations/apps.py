from django.apps import AppConfig


class AdminCustomisationsConfig(AppConfig):
    name = "admin_customisations"
    verbose_name = "Jobs"
