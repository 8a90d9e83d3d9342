"""The UNFOLD settings dict: site identity, environment badge and sidebar.

The sidebar is declared here as groups of admin models (``app_label.model``);
``admin_customisations.callbacks.sidebar_navigation`` turns it into unfold's
navigation per request, keeping only models that are registered and that the
user may view, and dropping groups left empty. New apps fill their group by
registering their admins; nothing else needs to change.
"""

from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

# (group title, [(app_label.model_name, icon), ...]); icons are Material Symbols names. An
# entry "app_label.model_name:suffix" with a title is a page of that model's admin (URL name
# admin:<app_label>_<model_name>_<suffix>), shown to users who may view the model.
SIDEBAR_GROUPS = [
    # the home page (admin_customisations/dashboard): "admin:index" is a URL name, not a model
    (_("Home"), [("admin:index", "dashboard", _("Dashboard"))]),
    (
        _("Inbox"),
        [
            # every staff user's own notifications; the badge is the unread count
            ("admin_customisations.notification", "notifications"),
        ],
    ),
    (
        _("Parts & BOMs"),
        [
            ("inventory.partcategory", "account_tree"),
            ("inventory.part", "category"),
            ("inventory.partparametertemplate", "tune"),
            ("builds.bomitem", "schema"),
        ],
    ),
    (
        _("Stock"),
        [
            ("inventory.stocklocation", "location_on"),
            ("inventory.stockitem", "inventory_2"),
            ("inventory.stockitemtracking", "timeline"),
            # a page of the stock item admin (url name suffix, title): inventory/admin/stock_as_of.py
            ("inventory.stockitem:as_of", "history", _("Stock as of a date")),
        ],
    ),
    (
        _("Builds"),
        [
            ("builds.buildorder", "precision_manufacturing"),
        ],
    ),
    (
        _("Purchasing"),
        [
            ("orders.purchaseorder", "shopping_cart"),
            ("orders.supplierpart", "local_shipping"),
            ("orders.manufacturerpart", "factory"),
        ],
    ),
    (
        _("Sales"),
        [
            ("orders.salesorder", "sell"),
            ("orders.salesordershipment", "package_2"),
        ],
    ),
    (
        _("Returns"),
        [
            ("orders.returnorder", "assignment_return"),
        ],
    ),
    (
        _("Companies"),
        [
            ("orders.company", "apartment"),
            ("orders.contact", "contacts"),
            ("orders.address", "home_pin"),
        ],
    ),
    (
        _("Audit"),
        [
            ("admin_customisations.changelogentry", "manage_history"),
        ],
    ),
    (
        _("Jobs"),
        [
            ("admin_customisations.backgroundjob", "work_history"),
            ("django_celery_results.taskresult", "task_alt"),
            ("django_celery_beat.periodictask", "schedule"),
        ],
    ),
    (
        _("Users & roles"),
        [
            ("auth.user", "person"),
            ("auth.group", "group"),
            ("axes.accessattempt", "lock_person"),
            ("axes.accessfailurelog", "gpp_bad"),
            ("axes.accesslog", "login"),
        ],
    ),
]

UNFOLD = {
    "SITE_TITLE": "Stockroom",
    "SITE_HEADER": "Stockroom",
    "SITE_SUBHEADER": _("Inventory management"),
    "SITE_SYMBOL": "inventory_2",
    # Without an icon link every browser asks for /favicon.ico and logs its 404 as a console error.
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "type": "image/svg+xml",
            "href": lambda request: static("admin_customisations/favicon.svg"),
        },
    ],
    "STYLES": [
        lambda request: static("admin_customisations/history.css"),
        lambda request: static("admin_customisations/object_pages.css"),
        lambda request: static("admin_customisations/lists.css"),
    ],
    "SITE_URL": "/admin/",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "admin_customisations.dashboard.callback.dashboard_callback",
    "ENVIRONMENT": "admin_customisations.callbacks.environment_callback",
    "ENVIRONMENT_TITLE_PREFIX": "admin_customisations.callbacks.environment_title_prefix",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": "admin_customisations.callbacks.sidebar_navigation",
    },
}
