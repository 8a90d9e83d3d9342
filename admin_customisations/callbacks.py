"""Callbacks named in config/unfold.py: environment badge and sidebar navigation."""

from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.utils.text import capfirst


def environment_callback(request):
    """Badge shown in the header: ("Demo", "info") or ("Production", "danger")."""
    label = settings.ENVIRONMENT_LABEL
    return [label, "danger" if settings.PRODUCTION else "info"]


def environment_title_prefix(request):
    """Prefix for the browser tab title, so demo tabs are distinguishable."""
    return None if settings.PRODUCTION else f"[{settings.ENVIRONMENT_LABEL}]"


# Sidebar entries with a badge: model -> dotted path of ``callback(request) -> str``
# ("" for no badge)
SIDEBAR_BADGES = {
    "admin_customisations.notification": (
        "admin_customisations.notifications.selectors.unread_badge"
    ),
}


def _registered_models():
    return {
        f"{model._meta.app_label}.{model._meta.model_name}": (model, model_admin)
        for model, model_admin in admin.site._registry.items()
    }


def sidebar_navigation(request):
    """Build unfold's sidebar from ``SIDEBAR_GROUPS`` for this request's user.

    A model (or a page of its admin) appears when its admin is registered and the user may
    view it; a group appears when it has at least one entry. Celery/beat pages
    (``roles.INTERNAL_APPS``) appear only for the admin role (``roles.holds_admin_role``).
    """
    from admin_customisations.roles import INTERNAL_APPS, holds_admin_role
    from config.unfold import SIDEBAR_GROUPS

    registered = _registered_models()
    internals = holds_admin_role(request.user)
    navigation = []
    for title, entries in SIDEBAR_GROUPS:
        items = []
        for key, icon, *label in entries:
            if key.startswith("admin:"):  # a page of the site itself (the dashboard)
                items.append({"title": label[0], "icon": icon, "link": reverse(key)})
                continue
            if key.split(".")[0] in INTERNAL_APPS and not internals:
                continue
            key, _, page = key.partition(":")
            if key not in registered:
                continue
            model, model_admin = registered[key]
            if not model_admin.has_view_or_change_permission(request):
                continue
            opts = model._meta
            try:
                link = reverse(f"admin:{opts.app_label}_{opts.model_name}_{page or 'changelist'}")
            except NoReverseMatch:
                continue
            label = label[0] if label else capfirst(opts.verbose_name_plural)
            item = {"title": label, "icon": icon, "link": link}
            badge = SIDEBAR_BADGES.get(key)
            if badge and import_string(badge)(request):
                # unfold calls it again to render it (the callback memoises per request);
                # without a value there is no badge at all (unfold would draw an empty one)
                item["badge"] = badge
            items.append(item)
        if items:
            navigation.append(
                {"title": title, "separator": True, "collapsible": True, "items": items}
            )
    return navigation
