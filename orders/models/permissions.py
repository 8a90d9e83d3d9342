"""Direct foreign-key object permissions (django-guardian) for orders: indexed, cascade on delete."""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class PurchaseOrderUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("orders.PurchaseOrder", on_delete=models.CASCADE)


class PurchaseOrderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("orders.PurchaseOrder", on_delete=models.CASCADE)


class SalesOrderUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("orders.SalesOrder", on_delete=models.CASCADE)


class SalesOrderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("orders.SalesOrder", on_delete=models.CASCADE)


class ReturnOrderUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("orders.ReturnOrder", on_delete=models.CASCADE)


class ReturnOrderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("orders.ReturnOrder", on_delete=models.CASCADE)
