"""Who wants to hear about a part: subscriptions to a part or to a whole category.

A category subscription covers the category and every category below it (the
materialised path: a part's category ``tree_path`` ``/1/5/9/`` is covered by
subscriptions to the categories ``/1/``, ``/1/5/`` and ``/1/5/9/``), so recipients are
found with one indexed ``IN`` over those paths, never by walking the tree.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class PartSubscription(models.Model):
    """A user's subscription to one part or to one category (exactly one of the two)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.CASCADE,
        related_name="part_subscriptions",
    )
    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="part",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    category = models.ForeignKey(
        "inventory.PartCategory",
        verbose_name="category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        help_text="Covers the category and every category below it.",
    )
    created_at = models.DateTimeField("subscribed", auto_now_add=True)

    class Meta:
        verbose_name = "part subscription"
        ordering = ["user", "id"]
        default_permissions = ()  # a user's own setting: subscribing needs view (admin actions)
        constraints = [
            models.CheckConstraint(
                condition=(Q(part__isnull=False) & Q(category__isnull=True))
                | (Q(part__isnull=True) & Q(category__isnull=False)),
                name="partsubscription_part_xor_category",
                violation_error_message="A subscription is to a part or to a category.",
            ),
            models.UniqueConstraint(
                fields=["user", "part"],
                condition=Q(part__isnull=False),
                name="partsubscription_unique_user_part",
            ),
            models.UniqueConstraint(
                fields=["user", "category"],
                condition=Q(category__isnull=False),
                name="partsubscription_unique_user_category",
            ),
        ]
        indexes = [
            models.Index(fields=["part"], name="partsub_part_idx"),
            models.Index(fields=["category"], name="partsub_category_idx"),
        ]

    def __str__(self):
        return f"{self.user}: {self.part or self.category}"
