"""Login throttling with django-axes (docs/security.md "Login lockout").

- ``LoginThrottleBackend``: axes' standalone backend (first in ``AUTHENTICATION_BACKENDS``);
  refuses a locked-out username + IP combination before any password is checked.
- ``client_ip``: the client address axes records, honouring ``TRUSTED_PROXY_COUNT``.
- ``lockout_response``: the readable, unfold-styled page shown when locked out.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for every login that comes with a request.

    ``authenticate()`` without a request (Django's test client ``login()``, scripts) has no
    client address to throttle; axes would raise, so this backend steps aside and the
    password backends decide. Every login form (the admin's included) passes the request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the Nth X-Forwarded-For
    entry from the right (the one our outermost proxy appended; entries further left are
    whatever the client sent and can be forged)."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def _minutes(delta) -> int:
    return max(1, round(delta.total_seconds() / 60))


def lockout_response(request, original_response=None, credentials=None):
    """The admin-styled "too many failed logins" page (HTTP 429)."""
    cooloff = settings.AXES_COOLOFF_TIME
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "username": username,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": _minutes(cooloff) if cooloff else None,
    }
    return TemplateResponse(
        request,
        "admin_customisations/lockout.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    ).render()
