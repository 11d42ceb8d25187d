"""One JSON error shape for the whole API.

{"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"name": ["…"]}}}
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        message = _first_message(value)
        return message if key in ("non_field_errors", "detail") else f"{key}: {message}"
    return str(detail)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def _protected_conflict(exc: ProtectedError) -> Conflict:
    """Deleting something that audit history still refers to (e.g. a sensor with incidents)."""
    protected = list(exc.protected_objects)
    meta = protected[0]._meta if protected else None
    if len(protected) == 1:
        what = f"1 {meta.verbose_name} refers"
    else:
        what = f"{len(protected)} {meta.verbose_name_plural if meta else 'records'} refer"
    return Conflict(f"It cannot be deleted: {what} to it and their history is kept. Disable or retire it instead.")


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE (uploads have their own limit)
        exc = PayloadTooLarge(
            f"The request body is larger than the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1_048_576} MiB."
        )
    elif isinstance(exc, ProtectedError):
        exc = _protected_conflict(exc)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a service's full_clean() refused the write
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    error = {
        "status": response.status_code,
        "code": codes if isinstance(codes, str) else ("invalid" if response.status_code == 400 else "error"),
        "message": _first_message(detail),
    }
    if isinstance(detail, dict) and not set(detail) <= {"detail"}:
        error["fields"] = detail
    response.data = {"error": error}
    return response


def error_response(message: str, *, code: str = "invalid", http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": {"status": http_status, "code": code, "message": message}}, status=http_status)


def error_response_404(message: str = "No API endpoint at this URL.") -> JsonResponse:
    """The 404 for a URL no API view matched (outside DRF, so a plain Django response)."""
    return JsonResponse({"error": {"status": 404, "code": "not_found", "message": message}}, status=404)
