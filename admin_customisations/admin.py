"""Admin for cross-app models, and unfold styling for Django/Celery's own admins.

The background job pages live with the job runner (``admin_customisations.jobs.admin``).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Count
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_celery_results.admin import GroupResultAdmin as BaseGroupResultAdmin
from django_celery_results.admin import TaskResultAdmin as BaseTaskResultAdmin
from django_celery_results.models import GroupResult, TaskResult
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldBooleanSwitchWidget

from admin_customisations.base import JavaScriptCatalogMixin
from admin_customisations.history import log_admin as _log_admin  # noqa: F401  (Recent changes)
from admin_customisations.jobs import admin as _job_admin  # noqa: F401  (registers the job pages)
from admin_customisations.notifications import admin as _notification_admin  # noqa: F401  (inbox)
from admin_customisations.permissions import with_action_permissions
from admin_customisations.roles import (
    ACTIONS,
    ROLE_BY_NAME,
    ROLES,
    group_roles,
    holds_admin_role,
    set_group_roles,
)
from inventory.services.actors import system_usernames

admin.site.unregister(User)
admin.site.unregister(Group)

# The home page is the dashboard (admin_customisations/dashboard, DASHBOARD_CALLBACK).
admin.site.index_template = "admin_customisations/dashboard/index.html"


@admin.register(User)
class UserAdmin(JavaScriptCatalogMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_superuser",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete pickers (checked by, responsible user) offer people, never the named
        # system actors; the user list itself still shows them.
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if "autocomplete" in request.path:
            queryset = queryset.exclude(username__in=system_usernames())
        return queryset, distinct


def _role_field(role, action):
    return f"role_{role.name}_{action}"


# One switch per role and action, declared on a class so admin fieldsets may name them.
_RoleGridFields = type(
    "_RoleGridFields",
    (forms.Form,),
    {
        _role_field(role, action): forms.BooleanField(
            label=f"{role.label}: {action}", required=False, widget=UnfoldBooleanSwitchWidget
        )
        for role in ROLES
        for action in ACTIONS
    },
)


class GroupRolesForm(_RoleGridFields, forms.ModelForm):
    """Group form with a role × view/add/change/delete grid instead of raw permissions."""

    class Meta:
        model = Group
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = group_roles(self.instance) if self.instance.pk else {}
        for role in ROLES:
            for action in ACTIONS:
                self.fields[_role_field(role, action)].initial = action in current.get(
                    role.name, ()
                )

    def roles(self) -> dict[str, tuple[str, ...]]:
        data = self.cleaned_data
        chosen = {
            role.name: tuple(a for a in ACTIONS if data.get(_role_field(role, a))) for role in ROLES
        }
        # add/change/delete without view would show nothing: view comes with any of them
        return {
            name: (("view", *acts) if acts and "view" not in acts else acts)
            for name, acts in chosen.items()
        }


@admin.register(Group)
class GroupAdmin(JavaScriptCatalogMixin, BaseGroupAdmin, ModelAdmin):
    form = GroupRolesForm
    list_display = ["name", "role_summary", "member_count"]
    readonly_fields = ["permission_summary"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(members=Count("user", distinct=True))
            .prefetch_related("roles")
        )

    def get_fieldsets(self, request, obj=None):
        grid = [tuple(_role_field(role, a) for a in ACTIONS) for role in ROLES]
        fieldsets = [
            (None, {"fields": ["name"]}),
            ("Roles (view / add / change / delete)", {"fields": grid}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    "Resulting permissions",
                    {"fields": ["permission_summary"], "classes": ["collapse"]},
                )
            )
        return fieldsets

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        set_group_roles(form.instance, form.roles(), user=request.user)

    @display(description="roles")
    def role_summary(self, group):
        rows = sorted(group.roles.all(), key=lambda r: r.role)
        return (
            "; ".join(
                f"{ROLE_BY_NAME[r.role].label if r.role in ROLE_BY_NAME else r.role}: "
                f"{'/'.join(a[0].upper() for a in r.actions())}"
                for r in rows
            )
            or "–"
        )

    @display(description="members", ordering="members")
    def member_count(self, group):
        return group.members

    @display(description="Django permissions granted by these roles")
    def permission_summary(self, group):
        names = group.permissions.select_related("content_type").order_by(
            "content_type__app_label", "codename"
        )
        return ", ".join(f"{p.content_type.app_label}.{p.codename}" for p in names) or "none"


class InternalsAdminMixin:
    """Celery/beat pages: on the app index and "all applications" only for the admin role
    (``holds_admin_role``); the pages themselves keep their permissions."""

    def has_module_permission(self, request):
        return holds_admin_role(request.user) and super().has_module_permission(request)


for _model, _base in [
    (TaskResult, BaseTaskResultAdmin),
    (GroupResult, BaseGroupResultAdmin),
    (PeriodicTask, beat_admin.PeriodicTaskAdmin),
    (IntervalSchedule, beat_admin.IntervalScheduleAdmin),
    (CrontabSchedule, beat_admin.CrontabScheduleAdmin),
    (SolarSchedule, beat_admin.SolarScheduleAdmin),
    (ClockedSchedule, beat_admin.ClockedScheduleAdmin),
]:
    admin.site.unregister(_model)
    # unfold look; actions that declare no permission (celery-beat's) require change
    admin.site.register(
        _model,
        with_action_permissions(type(_base.__name__, (InternalsAdminMixin, _base, ModelAdmin), {})),
    )
from admin_customisations import login_attempts_admin as _login_attempts_admin  # noqa: E402, F401  (axes pages)
