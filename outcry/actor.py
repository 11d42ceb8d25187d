"""Who is acting: the request being served, for rows that record their author without every service
taking it as an argument (the configuration change log, ``sites.changelog``).

``ActorMiddleware`` keeps the current request in a context variable; ``current_actor()`` reads its
user when asked, so a user that Django REST framework authenticates later in the request (API
tokens) counts too. Outside a request (management commands, tasks) there is no actor.
"""

from contextvars import ContextVar

from django.http import HttpRequest

from outcry.models import User

_current_request: ContextVar[HttpRequest | None] = ContextVar("outcry_current_request", default=None)


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def current_actor() -> User | None:
    request = _current_request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None
