"""A small materialised-path tree for categories and locations.

Each node stores ``tree_path``, the ids from the root down to itself
(``/1/5/9/``), so a whole subtree is one indexed prefix query and an insert
never touches other rows. ``pathstring`` ("Electronics/Passives") is the
human path used for display, sorting and spreadsheet natural keys. Both are
maintained for the whole subtree when a node is renamed or moved.
See docs/decisions.md for why this instead of django-mptt or treebeard.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower

PATHSTRING_MAX = 250
PATH_SEPARATOR = "/"
DERIVED_FIELDS = ("pathstring", "tree_path", "level")


def clip_pathstring(path: str) -> str:
    """Clip a pathstring to the column size, keeping its tail (the most specific part)."""
    if len(path) <= PATHSTRING_MAX:
        return path
    return "…" + path[-(PATHSTRING_MAX - 1) :]


class TreeQuerySet(models.QuerySet):
    def subtree_of(self, node):
        """The node and every node below it, in one query."""
        return self.filter(tree_path__startswith=node.tree_path)


class TreeNode(models.Model):
    """Abstract tree node: name, parent, pathstring, tree_path, level, structural."""

    name = models.CharField("name", max_length=100)
    description = models.CharField("description", max_length=250, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="parent",
        on_delete=models.PROTECT,  # deletion re-parents children first (see services)
        null=True,
        blank=True,
        related_name="children",
    )
    pathstring = models.CharField("path", max_length=PATHSTRING_MAX, editable=False, db_index=True)
    tree_path = models.CharField("tree path", max_length=255, editable=False, db_index=True)
    level = models.PositiveSmallIntegerField("level", default=0, editable=False)
    structural = models.BooleanField(
        "structural",
        default=False,
        help_text="Structural nodes only group others; nothing can be placed directly in them.",
    )

    objects = TreeQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["pathstring"]

    def __str__(self):
        return self.pathstring or self.name

    @transaction.atomic
    def save(self, *args, **kwargs):
        # the parent's paths as stored now (an in-memory parent may be stale)
        parent_paths = self._parent_paths()
        if self.pk is None:
            # tree_path needs our id: insert, then set the derived fields without a second history row
            self.pathstring, self.tree_path, self.level = self._computed_paths(parent_paths)
            super().save(*args, **kwargs)
            self.pathstring, self.tree_path, self.level = self._computed_paths(parent_paths)
            type(self).objects.filter(pk=self.pk).update(
                pathstring=self.pathstring, tree_path=self.tree_path, level=self.level
            )
            return
        old_path = (
            type(self).objects.filter(pk=self.pk).values_list("tree_path", "pathstring").first()
        )
        self.pathstring, self.tree_path, self.level = self._computed_paths(parent_paths)
        if kwargs.get("update_fields") is not None:
            # the derived fields follow name/parent even on a partial save
            kwargs["update_fields"] = {*kwargs["update_fields"], *DERIVED_FIELDS}
        super().save(*args, **kwargs)
        if old_path and old_path != (self.tree_path, self.pathstring):
            self._update_descendants(*old_path)

    @classmethod
    def tree_constraints(cls, prefix: str) -> list:
        """Sibling names are unique (case-insensitively), so paths are natural keys."""
        return [
            models.UniqueConstraint(
                Lower("name"),
                "parent",
                name=f"{prefix}_unique_name_in_parent",
                violation_error_message="A sibling with this name already exists.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(parent__isnull=True),
                name=f"{prefix}_unique_root_name",
                violation_error_message="A top-level entry with this name already exists.",
            ),
        ]

    def clean(self):
        super().clean()
        if PATH_SEPARATOR in self.name:
            raise ValidationError(
                {"name": f"Names cannot contain '{PATH_SEPARATOR}' (it separates path levels)."}
            )
        if self.parent_id and self.pk:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": "An entry cannot be its own parent."})
            parent_paths = self._parent_paths()
            if parent_paths and f"/{self.pk}/" in parent_paths[1]:
                raise ValidationError(
                    {"parent": "An entry cannot be moved below one of its own children."}
                )
        if self.structural and self.pk and self.has_direct_members():
            raise ValidationError({"structural": self.structural_conflict_message})

    structural_conflict_message = (
        "Cannot be made structural while items are assigned to it directly."
    )

    def has_direct_members(self) -> bool:
        """Whether anything is assigned directly to this node (overridden by subclasses)."""
        return False

    def ancestors(self):
        """Nodes from the root down to the parent, in order (one query)."""
        ids = [int(i) for i in self.tree_path.strip("/").split("/")[:-1] if i]
        nodes = {n.pk: n for n in type(self).objects.filter(pk__in=ids)}
        return [nodes[i] for i in ids if i in nodes]

    def subtree(self):
        return type(self).objects.subtree_of(self)

    def _parent_paths(self) -> tuple[str, str, int] | None:
        """(pathstring, tree_path, level) of the parent as stored, or None for a top-level node."""
        if self.parent_id is None:
            return None
        return (
            type(self)
            .objects.filter(pk=self.parent_id)
            .values_list("pathstring", "tree_path", "level")
            .first()
        )

    def _computed_paths(self, parent_paths) -> tuple[str, str, int]:
        if parent_paths is None:
            return clip_pathstring(self.name), f"/{self.pk}/", 0
        pathstring, tree_path, level = parent_paths
        return (
            clip_pathstring(f"{pathstring}{PATH_SEPARATOR}{self.name}"),
            f"{tree_path}{self.pk}/",
            level + 1,
        )

    def _update_descendants(self, old_tree_path: str, old_pathstring: str) -> None:
        """Rewrite tree_path/pathstring/level of every node below this one (one read, one bulk write)."""
        below = list(
            type(self)
            .objects.filter(tree_path__startswith=old_tree_path)
            .exclude(pk=self.pk)
            .order_by("level")
            .only("pk", "name", "parent_id", "tree_path", "pathstring", "level")
        )
        by_pk = {self.pk: self}
        for node in below:
            parent = by_pk[node.parent_id]
            node.pathstring = clip_pathstring(f"{parent.pathstring}{PATH_SEPARATOR}{node.name}")
            node.tree_path = f"{parent.tree_path}{node.pk}/"
            node.level = parent.level + 1
            by_pk[node.pk] = node
        type(self).objects.bulk_update(below, ["pathstring", "tree_path", "level"], batch_size=500)
