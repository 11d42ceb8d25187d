"""Filter backends shared by every list endpoint."""

from rest_framework import exceptions
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` with a field the endpoint cannot order by is a 400 naming the fields it can,
    not silently the default order."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = [name for name, _label in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in fields if term.lstrip("-") not in valid]
        if unknown:
            raise exceptions.ValidationError(
                {"ordering": [f"Cannot order by {', '.join(unknown)}; use one of: {', '.join(sorted(valid))}."]}
            )
        return list(fields)
