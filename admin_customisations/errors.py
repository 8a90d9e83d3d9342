"""403/404/500 pages in the admin's look (``handler403/404/500`` in config/urls.py).

Each page says what happened and offers a way back: the previous page (when the browser
came from this site) and the admin index. Signed-in staff see the admin frame with its
sidebar; anyone else the login layout. The 500 page never depends on the database: if
building the admin context fails too, a plain page is returned.
"""

import logging

from django.contrib import admin
from django.http import HttpResponseServerError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

MESSAGES = {
    403: (
        "Permission denied",
        "You do not have permission to open this page or to do this.",
        "Your roles or the ownership of this record do not allow it. Ask an administrator "
        "if you need access.",
    ),
    404: (
        "Page not found",
        "There is nothing at this address.",
        "The record may have been deleted, or the link is wrong.",
    ),
    500: (
        "Server error",
        "Something went wrong on our side; nothing you did caused it.",
        "The error has been logged. Try again, and tell an administrator if it keeps happening.",
    ),
}

PLAIN_500 = (
    "<!DOCTYPE html><html lang='en'><head><title>Server error | Stockroom</title></head>"
    "<body><h1>Server error</h1><p>Something went wrong on our side; nothing you did caused "
    "it.</p><p><a href='/admin/'>Admin home</a></p></body></html>"
)


def _back_url(request) -> str | None:
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or referer == request.build_absolute_uri():
        return None
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


def _render(request, status: int, *, with_user: bool = True):
    title, message, detail = MESSAGES[status]
    user = getattr(request, "user", None) if with_user else None
    staff_frame = bool(user and user.is_active and user.is_staff)
    context = {
        **admin.site.each_context(request),
        "title": title,
        "status": status,
        "message": message,
        "detail": detail,
        "back_url": _back_url(request),
        "index_url": reverse("admin:index"),
        "staff_frame": staff_frame,
        "base_template": (
            "admin/base_site.html" if staff_frame else "unfold/layouts/unauthenticated.html"
        ),
    }
    return TemplateResponse(
        request, "admin_customisations/errors/error.html", context, status=status
    ).render()


@requires_csrf_token
def permission_denied(request, exception=None):
    return _render(request, 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _render(request, 404)


@requires_csrf_token
def server_error(request):
    try:
        # No sidebar: it asks the database, which may be what failed.
        return _render(request, 500, with_user=False)
    except Exception:  # the error page itself must not fail
        logger.exception("Rendering the 500 page failed")
        return HttpResponseServerError(PLAIN_500)
