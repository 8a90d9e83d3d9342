"""Direct foreign-key object permissions (django-guardian) for stock locations.

Guardian's generic tables join through content types and text object ids; a
direct foreign key is indexed and cascades on delete, so no orphan rows stay
behind when a location goes.
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class StockLocationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("inventory.StockLocation", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "stock location user permission"


class StockLocationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("inventory.StockLocation", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "stock location group permission"
