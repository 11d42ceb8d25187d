"""Filter backends shared by every list endpoint."""

import django_filters
from django import forms
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter

# The largest id a (big) integer column holds; a larger number overflows the database driver.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number from 1 to ``MAX_ID``, else a 400 saying so (not a 500 from the driver)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


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
