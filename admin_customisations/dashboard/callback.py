"""unfold's ``DASHBOARD_CALLBACK`` (config/unfold.py): the home page's context."""

from admin_customisations.dashboard.widgets import dashboard


def dashboard_callback(request, context):
    context.update({"dashboard": dashboard(request.user), "title": "Dashboard"})
    return context
