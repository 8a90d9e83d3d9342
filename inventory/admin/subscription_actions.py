"""Subscribe / Unsubscribe on the part and category lists (who hears about low stock and
expiry: docs/notifications.md). Whoever may see a part may subscribe to it: a subscription
is the user's own setting and changes nothing about the part."""

from admin_customisations.actions import ActionForm, form_action
from inventory.services.subscriptions import (
    category_subscribe,
    category_unsubscribe,
    part_subscribe,
    part_unsubscribe,
)


class SubscribeForm(ActionForm):
    """No input: the page confirms the selection."""


def _n(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _apply(service, keyword, message):
    def apply(*, request, queryset, data):
        return message(service(user=request.user, **{keyword: queryset}))

    return apply


PART_SUBSCRIPTION_ACTIONS = [
    form_action(
        name="subscribe_parts",
        description="Subscribe (notify me)",
        form_class=SubscribeForm,
        permission="view",
        apply=_apply(
            part_subscribe,
            "parts",
            lambda n: (
                f"Subscribed to {_n(n, 'more part')}: you are notified of their low "
                "stock and expiring stock."
            ),
        ),
    ),
    form_action(
        name="unsubscribe_parts",
        description="Unsubscribe",
        form_class=SubscribeForm,
        permission="view",
        apply=_apply(
            part_unsubscribe,
            "parts",
            lambda n: f"Unsubscribed from {_n(n, 'part')} (category subscriptions still apply).",
        ),
    ),
]

CATEGORY_SUBSCRIPTION_ACTIONS = [
    form_action(
        name="subscribe_categories",
        description="Subscribe (notify me)",
        form_class=SubscribeForm,
        permission="view",
        apply=_apply(
            category_subscribe,
            "categories",
            lambda n: (
                f"Subscribed to {_n(n, 'more category')}: you are notified about every "
                "part in them and in their sub-categories."
            ),
        ),
    ),
    form_action(
        name="unsubscribe_categories",
        description="Unsubscribe",
        form_class=SubscribeForm,
        permission="view",
        apply=_apply(
            category_unsubscribe,
            "categories",
            lambda n: f"Unsubscribed from {_n(n, 'category')}.",
        ),
    ),
]
