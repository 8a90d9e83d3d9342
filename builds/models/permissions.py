"""Direct foreign-key object permissions (django-guardian) for build orders."""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class BuildOrderUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("builds.BuildOrder", on_delete=models.CASCADE)


class BuildOrderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("builds.BuildOrder", on_delete=models.CASCADE)
