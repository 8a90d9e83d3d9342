"""List filters shared by Stockroom's own admin pages."""

from django.contrib import admin


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A list filter that is never "All" by omission: with no parameter in the address, the
    choice ``default(request)`` is selected (and highlighted), e.g. an inbox showing unread
    notifications, or the job list showing one's own jobs."""

    def default(self, request) -> str:
        raise NotImplementedError

    def value(self):
        return super().value() or self.default(self.request)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }
