"""URL routes: the admin is the application; ``/`` leads to it."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
]

# Error pages in the admin's look, with a way back (admin_customisations/errors.py)
handler403 = "admin_customisations.errors.permission_denied"
handler404 = "admin_customisations.errors.page_not_found"
handler500 = "admin_customisations.errors.server_error"
