"""The admin's undelete page: ``<id>/undelete/`` on the admins of ``history.undelete.UNDELETABLE``.

GET shows what would be restored (or why it cannot be); POST (CSRF-protected) restores it
through ``undelete_object`` and redirects to the restored object's change page. Needs the
role's *add* permission (and, for stock locations, ownership of the parent location):
anyone else gets 403 and nothing changes.
"""

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from admin_customisations.history.undelete import (
    is_undeletable,
    plan_undelete,
    undelete_object,
    undelete_url,
)
from admin_customisations.permissions import user_may


class UndeleteAdminMixin:
    undelete_template = "admin_customisations/history/undelete.html"

    def get_urls(self):
        urls = super().get_urls()
        if not is_undeletable(self.model):
            return urls
        opts = self.model._meta
        undelete = path(
            "<path:object_id>/undelete/",
            self.admin_site.admin_view(self.undelete_view),
            name=f"{opts.app_label}_{opts.model_name}_undelete",
        )
        return [undelete, *urls]

    def _admin_url(self, name, *args):
        opts = self.model._meta
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{name}", args=args
        )

    def undelete_view(self, request, object_id):
        if not user_may(request.user, "add", model=self.model):
            raise PermissionDenied
        object_id = unquote(object_id)
        plan = plan_undelete(model=self.model, object_id=object_id, user=request.user)
        if plan.current is not None:
            self.message_user(
                request,
                f"The {plan.noun} '{plan.current}' is not deleted: there is nothing to restore.",
                level=messages.WARNING,
            )
            return HttpResponseRedirect(self._admin_url("change", quote(plan.current.pk)))
        if plan.record is None:
            raise Http404(f"There is no deleted {plan.noun} #{object_id} in the history.")
        if not plan.permitted:
            raise PermissionDenied(plan.permission_message)
        if request.method == "POST":
            return self._undelete(request, object_id)
        problems = [
            {
                "message": problem.message,
                "url": self._problem_url(problem),
            }
            for problem in plan.problems
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore deleted {plan.noun} '{plan.instance}'",
            "opts": self.model._meta,
            "plan": plan,
            "problems": problems,
            "deleted_on": plan.record.history_date,
            "deleted_by": plan.record.history_user,
            "history_url": self._admin_url("history", quote(object_id)),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.undelete_template, context)

    def _problem_url(self, problem):
        if problem.obj is not None:
            opts = problem.obj._meta
            try:
                return reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                    args=[quote(problem.obj.pk)],
                )
            except Exception:
                return ""
        if problem.restore_first is not None:
            return undelete_url(*problem.restore_first) or ""
        return ""

    def _undelete(self, request, object_id):
        try:
            obj = undelete_object(model=self.model, object_id=object_id, user=request.user)
        except ValidationError as error:
            self.message_user(
                request, "Not restored: " + " ".join(error.messages), level=messages.ERROR
            )
            return HttpResponseRedirect(request.path)
        self.log_addition(request, obj, [{"added": {}}])
        self.message_user(
            request,
            f"The {self.model._meta.verbose_name} '{obj}' was restored.",
            level=messages.SUCCESS,
        )
        return HttpResponseRedirect(self._admin_url("change", quote(obj.pk)))
