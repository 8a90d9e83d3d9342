"""Announcing history rows written in bulk.

simple-history sends ``post_create_historical_record`` for records saved one by one; rows
written in bulk (``bulk_create_with_history``, ``INSERT … SELECT`` copies, generated data)
send nothing. Every bulk writer wraps its write in ``announcing_bulk_history(history_model)``
so listeners (the system-wide change log) can pick up exactly the rows written, in the same
transaction.
"""

from contextlib import contextmanager

from django.db import router
from django.db.models import Max
from django.dispatch import Signal

# sender: the historical model; after_id: rows with a greater history_id are new; using: alias.
bulk_history_written = Signal()


def last_history_id(history_model, using=None) -> int:
    """The greatest ``history_id`` of ``history_model`` now (0 for an empty table)."""
    using = using or router.db_for_write(history_model)
    found = history_model._base_manager.using(using).aggregate(last=Max("history_id"))["last"]
    return found or 0


def announce_bulk_history(history_model, *, after_id: int, using=None) -> None:
    """Tell listeners that rows of ``history_model`` after ``after_id`` were written."""
    using = using or router.db_for_write(history_model)
    bulk_history_written.send(sender=history_model, after_id=after_id, using=using)


@contextmanager
def announcing_bulk_history(*history_models, using=None):
    """Announce the rows of ``history_models`` written inside the block, when it ends."""
    marks = {model: last_history_id(model, using) for model in history_models}
    yield
    for model, after_id in marks.items():
        announce_bulk_history(model, after_id=after_id, using=using)


def bulk_create_with_history(objs, model, **kwargs):
    """simple-history's ``bulk_create_with_history``, announced."""
    from simple_history.utils import bulk_create_with_history as create

    with announcing_bulk_history(model.history.model):
        return create(objs, model, **kwargs)


def bulk_update_with_history(objs, model, fields, **kwargs):
    """simple-history's ``bulk_update_with_history``, announced."""
    from simple_history.utils import bulk_update_with_history as update

    with announcing_bulk_history(model.history.model):
        return update(objs, model, fields, **kwargs)


def bulk_history_create(model, objs, **kwargs):
    """``model.history.bulk_history_create(objs, …)``, announced."""
    with announcing_bulk_history(model.history.model):
        return model.history.bulk_history_create(objs, **kwargs)
