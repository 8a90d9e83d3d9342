from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, app_config, **kwargs):
    # Permissions are created per app as the signal goes round; sync once, after the last app.
    if app_config.label != list(apps.get_app_configs())[-1].label:
        return
    from admin_customisations.roles import sync_all_groups

    sync_all_groups()


def _sync_schedules_after_migrate(sender, app_config, **kwargs):
    if app_config.label != list(apps.get_app_configs())[-1].label:
        return
    from admin_customisations.schedules import sync_schedules

    sync_schedules()


class AdminCustomisationsConfig(AppConfig):
    name = "admin_customisations"
    verbose_name = "Jobs"

    def ready(self):
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="stockroom_sync_roles")
        post_migrate.connect(_sync_schedules_after_migrate, dispatch_uid="stockroom_sync_schedules")
        from admin_customisations.jobs import attribution

        attribution.connect()
        from admin_customisations.history import changelog

        changelog.connect()
