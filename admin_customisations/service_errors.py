"""A service's refusal while the admin saves or deletes is shown to the user, never a 500.

Admin forms validate through the services beforehand (``actions.dry_run`` in ``clean()``),
but the real call in ``save_model`` / ``save_related`` / ``save_formset`` / ``delete_model``
/ ``delete_queryset`` runs later, and another user may have changed something in between
(took the reference just typed, allocated the stock). Django would turn the
ValidationError into a server error. ``ServiceErrorsAdminMixin`` catches it instead:

- add/change page: the transaction is rolled back and the page is shown again, the form
  bound to what was posted, with the service's message on the field it names (else at the
  top), status 200;
- delete page: nothing is deleted; the message is shown on the object's page;
- "delete selected" (and any other changelist action): the deletion is all or nothing and
  the message is shown on the list.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from admin_customisations.actions import add_service_error

_ERROR = "_stockroom_service_error"


class ServiceErrorsAdminMixin:
    """Put first in the bases of a ModelAdmin whose save/delete paths call services."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            if request.method != "POST" or hasattr(request, _ERROR):
                raise
            # The failed attempt was rolled back; show the same POST again, invalid.
            setattr(request, _ERROR, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, _ERROR, None)
        if error is None:
            return form_class

        def full_clean(form):
            form_class.full_clean(form)
            if form.is_bound:
                add_service_error(form, error)

        return type(form_class.__name__, (form_class,), {"full_clean": full_clean})

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            opts = self.model._meta
            try:
                url = reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=[object_id],
                    current_app=self.admin_site.name,
                )
            except NoReverseMatch:  # pragma: no cover - every admin has a change URL
                url = request.get_full_path()
            return HttpResponseRedirect(url)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(self.model)):
            super().delete_queryset(request, queryset)

    def response_action(self, request, queryset):
        try:
            return super().response_action(request, queryset)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
