"""Builds admin: one module per admin."""

from builds.admin import bom, build  # noqa: F401
