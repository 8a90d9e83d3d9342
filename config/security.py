"""Security plumbing wired in settings that must load before the apps: headers, log noise.

- ``PermissionsPolicyMiddleware``: the ``Permissions-Policy`` header.
- ``PermissionDeniedWithoutTraceback``: keeps ordinary 403s in the log as one line.

Login throttling lives in ``config/login_throttle.py``.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` built from ``settings.PERMISSIONS_POLICY``
    ({feature: [allowed origins]}; an empty list switches the feature off)."""

    def __init__(self, get_response):
        self.get_response = get_response
        policy = getattr(settings, "PERMISSIONS_POLICY", {})
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in policy.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


class PermissionDeniedWithoutTraceback(logging.Filter):
    """Drop the traceback Django attaches to "Forbidden (Permission denied)" records: a
    refused request is expected behaviour, the one-line warning is enough."""

    def filter(self, record):
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
