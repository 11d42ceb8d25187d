from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        """A page that is not a number from 1 (or "last") is a 400; a page past the end stays a 404."""
        page = super().get_page_number(request, paginator)
        if page not in self.last_page_strings and not (str(page).isdigit() and int(page) >= 1):
            raise exceptions.ValidationError({"page": [f"{page!r} is not a page number (1, 2, …) or 'last'."]})
        return page

    def get_page_size(self, request):
        """``page_size`` is a whole number from 1 to ``max_page_size``, else a 400 (not silently the default)."""
        value = request.query_params.get(self.page_size_query_param)
        if value is None or value == "":
            return self.page_size
        if not (value.isdigit() and 1 <= int(value) <= self.max_page_size):
            raise exceptions.ValidationError(
                {"page_size": [f"{value!r} is not a page size: use a whole number from 1 to {self.max_page_size}."]}
            )
        return int(value)
