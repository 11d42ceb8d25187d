"""Behaviour shared by API viewsets."""


class RefuseMalformedBodyMixin:
    """Parse the body of every write before the action runs, so that a malformed one is refused
    (400) even by actions that take no body (acknowledge, rotate-key, ...) instead of being ignored."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH"):
            _ = request.data  # parsing raises ParseError for a malformed body
