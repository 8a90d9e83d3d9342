"""Who a change is attributed to when no person makes it: the named system actors.

Every historical record carries a user and a reason (docs/history.md, "Who and why").
Where a person acts (an admin form, an action, a job, an import) the record carries that
person. Where nobody does (a scheduled task, a management command, the demo load, the data
generator) it carries one of the actors below: a real ``User`` row, created on first use,
inactive, with an unusable password, not staff, in no group, so it can never log in and
never shows up as a person to pick.

Code that runs without a person wraps its work in ``acting_as(actor, reason=...)``; every
historical record saved inside without a user gets the actor, and without a reason gets the
reason (``fill_history_attribution``, a simple-history signal receiver, like the request
middleware does for the logged-in user). Bulk writers that send no signal ask
``history_user_id(user)`` for the id to write.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, transaction

# The actors, by name: what each one stands for (also listed in docs/history.md).
ACTORS: dict[str, str] = {
    "system": "Stockroom itself, when no person and no more specific actor is acting.",
    "scheduler": "Scheduled tasks run by Celery beat (e.g. the bulk-job reaper).",
    "command": "Management commands run by an operator (sync_roles, sync_schedules, …).",
    "demo": "The demo dataset (manage.py load_demo) where no demo account acts.",
    "generator": "The synthetic data of manage.py generate_data.",
}


def actor_username(name: str) -> str:
    """``[scheduler]``: brackets are not allowed in usernames people create, so an actor
    can never be mistaken for (or collide with) a real account."""
    return f"[{name}]"


# {(database alias, actor name): user}, filled only with rows known to be committed and
# emptied when a user is deleted or the database flushed (tests) or migrated
_cache: dict[tuple[str, str], object] = {}


def system_user(name: str, *, using: str = DEFAULT_DB_ALIAS):
    """The ``User`` row of actor ``name`` (created if missing, idempotently)."""
    from django.contrib.auth.models import User

    if name not in ACTORS:
        raise ValueError(f"Unknown system actor {name!r} (known: {', '.join(ACTORS)})")
    key = (using, name)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    user, created = User.objects.using(using).get_or_create(
        username=actor_username(name),
        defaults={
            "first_name": name.capitalize(),
            "last_name": "(system)",
            "is_active": False,
            "is_staff": False,
            "is_superuser": False,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(using=using, update_fields=["password"])
    # Cache only what is committed: a row created (or read) inside a transaction that is
    # later rolled back, such as a test's, must not be handed out afterwards.
    connection = transaction.get_connection(using)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _cache.__setitem__(key, user), using=using)
    else:
        _cache[key] = user
    return user


def forget_system_users(**kwargs) -> None:
    """Drop the cache (connected to a user's deletion and to ``flush``/``migrate``)."""
    _cache.clear()


def is_system_user(user) -> bool:
    username = getattr(user, "username", "") or ""
    return username.startswith("[") and username.endswith("]") and username[1:-1] in ACTORS


def system_usernames() -> list[str]:
    """For excluding the actors where people are picked: ``exclude(username__in=...)``."""
    return [actor_username(name) for name in ACTORS]


def people():
    """Every user but the system actors (for pickers: responsible user, checked by…)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()._default_manager
    return users.exclude(username__in=system_usernames()).order_by("username")


# ---------------------------------------------------------------- the acting actor

_acting: contextvars.ContextVar = contextvars.ContextVar("stockroom_acting_actor", default=None)


@contextmanager
def acting_as(actor, *, reason: str = ""):
    """Attribute every historical record saved inside without a user to ``actor`` (an
    actor name or a ``User``) and, when it has no reason, to ``reason``."""
    token = _acting.set((actor, reason))
    try:
        yield
    finally:
        _acting.reset(token)


def _acting_user(using: str = DEFAULT_DB_ALIAS):
    active = _acting.get()
    if active is None:
        return None
    actor = active[0]
    return system_user(actor, using=using) if isinstance(actor, str) else actor


def acting_reason() -> str:
    active = _acting.get()
    return active[1] if active else ""


def person(user):
    """``user`` if it is a saved user (not None, not AnonymousUser), else None."""
    return user if getattr(user, "pk", None) else None


def attributed_user(user, *, using: str = DEFAULT_DB_ALIAS):
    """The user a write by ``user`` is attributed to: the person, else the acting actor."""
    return person(user) or _acting_user(using)


def history_user_id(user, *, using: str = DEFAULT_DB_ALIAS):
    """The ``history_user_id`` bulk history writers store for a write by ``user``."""
    attributed = attributed_user(user, using=using)
    return attributed.pk if attributed is not None else None


def fill_history_attribution(sender, history_instance, using=None, **kwargs) -> None:
    """simple-history signal: a record without a user or reason gets the acting actor's."""
    if _acting.get() is None:
        return
    if not history_instance.history_user_id:
        user = _acting_user(using or DEFAULT_DB_ALIAS)
        if user is not None:
            history_instance.history_user = user
    if not (history_instance.history_change_reason or "").strip():
        history_instance.history_change_reason = acting_reason()[:100]


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_migrate
    from simple_history.signals import pre_create_historical_record

    pre_create_historical_record.connect(
        fill_history_attribution, dispatch_uid="stockroom_fill_history_attribution"
    )
    post_delete.connect(
        forget_system_users, sender=get_user_model(), dispatch_uid="stockroom_forget_actors"
    )
    post_migrate.connect(forget_system_users, dispatch_uid="stockroom_forget_actors_migrate")
