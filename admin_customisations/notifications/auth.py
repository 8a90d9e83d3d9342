"""The authentication backend that loads the user with their unread notification count.

Every admin page shows the inbox's unread count in the sidebar. Rather than a query of its
own on every page, the count is a correlated subquery (on the partial index of unread
notifications) of the query that loads ``request.user`` from the session anyway, so pages
keep the number of queries they had. Otherwise Django's ``ModelBackend`` unchanged.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

ATTRIBUTE = "unread_notification_count"


def with_unread_count(users):
    from admin_customisations.notifications.models import Notification

    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return users.annotate(
        **{ATTRIBUTE: Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))}
    )


class StockroomModelBackend(ModelBackend):
    def get_user(self, user_id):
        users = with_unread_count(get_user_model()._default_manager)
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
