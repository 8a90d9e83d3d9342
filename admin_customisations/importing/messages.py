"""Errors as sentences a back-office user understands ("row 17, column Category: ...").

Django's ValidationError messages are sentences already (the models' ``clean`` writes
them for users); length, choice, number and date errors are re-worded with the value
that was given. Database errors (IntegrityError) and anything else never reach the user
as raw exception text: they are mapped to the constraint's own message where one is
declared, else to a general sentence.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError


def _shorten(value, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reword(error: ValidationError) -> str:
    """One ValidationError (a single message) as a sentence."""
    code = getattr(error, "code", None)
    params = getattr(error, "params", None) or {}
    if code == "max_length" and "limit_value" in params:
        shown = params.get("value")
        head = f"'{_shorten(shown)}' is too long" if isinstance(shown, str) else "Too long"
        return f"{head}: {params.get('show_value')} characters, at most {params['limit_value']} allowed."
    if code == "invalid_choice" and "value" in params:
        return f"'{params['value']}' is not one of the allowed choices."
    if code in ("blank", "null"):
        return "This column is required."
    if code == "invalid" and "value" in params:
        return f"'{_shorten(params['value'])}' is not a valid value."
    if code in ("max_digits", "max_decimal_places", "max_whole_digits") and "max" in params:
        what = {
            "max_digits": "digits in total",
            "max_decimal_places": "decimal places",
            "max_whole_digits": "digits before the decimal point",
        }[code]
        return f"Too many {what}: at most {params['max']}."
    if code == "min_value" and "limit_value" in params:
        return f"Must be at least {params['limit_value']}."
    if code == "max_value" and "limit_value" in params:
        return f"Must be at most {params['limit_value']}."
    messages = error.messages
    return " ".join(messages) if messages else "This value is not valid."


def field_error_messages(error: ValidationError, column_for_field) -> list[tuple[str, str]]:
    """[(column header or '', sentence)] for a model ValidationError.

    ``column_for_field(name)`` maps a model field to its spreadsheet header; errors on
    fields the sheet has no column for keep the field's verbose name in the sentence."""
    out: list[tuple[str, str]] = []
    if not hasattr(error, "error_dict"):
        return [("", reword(e)) for e in error.error_list]
    for name, errors in error.error_dict.items():
        column = "" if name == NON_FIELD_ERRORS else column_for_field(name)
        for each in errors:
            message = reword(each)
            if name != NON_FIELD_ERRORS and not column:
                message = f"{name.replace('_', ' ').capitalize()}: {message}"
            out.append((column, message))
    return out


def service_error_messages(error: ValidationError, column_for_field) -> list[tuple[str, str]]:
    """A service's ValidationError (field keys such as 'serials', 'location')."""
    return field_error_messages(error, column_for_field)


def integrity_message(error: IntegrityError, model=None) -> str:
    """A database refusal as a sentence (the constraint's own message where declared)."""
    text = str(error)
    if model is not None:
        for constraint in getattr(model._meta, "constraints", ()):
            if constraint.name and constraint.name in text:
                message = getattr(constraint, "violation_error_message", None)
                if message and "%(name)s" not in str(message):
                    return str(message)
    lowered = text.lower()
    if "unique" in lowered or "duplicate" in lowered:
        return (
            "A value that must be unique is already in use (someone may have changed the "
            "data since the preview)."
        )
    if "foreign key" in lowered:
        return "A row refers to something that no longer exists (deleted since the preview?)."
    if "check constraint" in lowered or "violates check" in lowered:
        return "A value is outside what is allowed (for example a negative quantity)."
    return "The database refused the change."


def exception_message(error: BaseException, model=None) -> str:
    """Any exception as a sentence for the run's message, never raw exception text."""
    if isinstance(error, ValidationError):
        return (
            " ".join(reword(e) for e in error.error_list)
            if not hasattr(error, "error_dict")
            else " ".join(m for _, m in field_error_messages(error, lambda name: ""))
        )
    if isinstance(error, IntegrityError):
        return integrity_message(error, model)
    return "An unexpected error stopped the import (details are in the server log)."
