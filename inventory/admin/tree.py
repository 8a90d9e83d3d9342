"""Shared admin behaviour for the category and location trees."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.decorators import display

from admin_customisations.base import StockroomModelAdmin
from admin_customisations.memo import cached_per_object


class TreeAdmin(StockroomModelAdmin):
    """List in tree order with indentation; breadcrumbs and children on the change page.

    Subclasses set ``count_field`` (set by ``annotate_counts``), ``count_label`` and
    ``annotate_counts`` (a selector that sets subtree counts on a page of nodes: the list
    queryset stays plain, so counting, autocomplete and the change page stay cheap).
    """

    search_fields = ["name", "pathstring", "description"]
    ordering = ["pathstring"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["breadcrumbs", "child_links"]
    count_field = ""
    count_label = ""

    annotate_counts = None  # staticmethod(selector) in subclasses

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        type(self).annotate_counts(changelist.result_list)
        return changelist

    def get_deleted_objects(self, objs, request):
        # Children and members are moved up to the parent by the delete service, not deleted,
        # so their PROTECT foreign keys do not block the deletion.
        deleted, model_count, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, perms_needed, []

    @display(description="name", ordering="pathstring")
    def indented_name(self, node):
        return format_html(
            '<span style="padding-left: {}rem">{}{}</span>',
            node.level * 1.25,
            "└ " if node.level else "",
            node.name,
        )

    @display(description="sub-entries")
    def children_link(self, node):
        if not node.child_count:
            return "–"
        url = reverse(f"admin:{node._meta.app_label}_{node._meta.model_name}_changelist")
        return format_html(
            '<a href="{}?parent__id__exact={}">{}</a>', url, node.pk, node.child_count
        )

    @display(description="path")
    def breadcrumbs(self, node):
        if node is None or node.pk is None:
            return "–"
        chain = [*node.ancestors(), node]
        return format_html_join(
            " / ",
            '<a href="{}">{}</a>',
            ((self._change_url(n), n.name) for n in chain),
        )

    @display(description="children")
    @cached_per_object
    def child_links(self, node):
        if node is None or node.pk is None:
            return "–"
        children = list(type(node).objects.filter(parent=node).order_by("name"))
        type(self).annotate_counts(children)
        if not children:
            return "No sub-entries."
        return format_html_join(
            format_html("<br>"),
            '<a href="{}">{}</a> ({} {})',
            (
                (self._change_url(c), c.name, getattr(c, self.count_field), self.count_label)
                for c in children
            ),
        )

    def _change_url(self, node):
        return reverse(
            f"admin:{node._meta.app_label}_{node._meta.model_name}_change", args=[node.pk]
        )
