"""``cached_per_object``: compute an expensive read-only admin field once per object.

unfold renders each read-only callable field several times per change page (about five
for ``stock_summary``), so a field that runs queries runs them that many times. Decorate
the ModelAdmin method (under ``@display``) and its result is kept on the object instance,
which lives for one request only.
"""

from functools import wraps


def cached_per_object(method):
    """Memoise ``method(self, obj)`` on ``obj`` (``None`` and unsaved objects are not cached)."""
    key = f"_cached_{method.__name__}"

    @wraps(method)
    def wrapper(self, obj):
        if obj is None or getattr(obj, "pk", None) is None:
            return method(self, obj)
        cache = obj.__dict__.setdefault("_admin_field_cache", {})
        if key not in cache:
            cache[key] = method(self, obj)
        return cache[key]

    return wrapper
