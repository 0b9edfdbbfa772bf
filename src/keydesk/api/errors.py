"""RFC 9457 problem details: every error the API answers is `application/problem+json`."""

import json
import logging
from datetime import UTC
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from keydesk.core.errors import ApplicationError
from keydesk.tenants.limits import CreationLimitReached, creation_refusal_record

logger = logging.getLogger("keydesk.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://keydesk.dev/problems/"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict | None = None,
) -> HttpResponse:
    """A problem+json response; `code` is stable and also names the problem `type`.

    `extensions` are further members of the problem (RFC 9457 section 3.2).
    """
    body = {
        "type": f"{PROBLEM_TYPE_BASE}{code}",
        "title": _phrase(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unauthorized() -> HttpResponse:
    """The one answer for a missing, wrong, revoked or foreign token, so none can be told apart."""
    return problem(
        401,
        "unauthorized",
        "Send a valid API token as 'Authorization: Bearer TOKEN'. Temporary Access Passes "
        "are for interactive sign-in only and never authenticate the API.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def not_found() -> HttpResponse:
    """Missing, or not visible to the caller: the same answer."""
    return problem(404, "not_found", "Nothing is here.")


def method_not_allowed(allowed: str) -> HttpResponse:
    """The path exists but not for this method; `allowed` is the Allow header's value."""
    return problem(
        405,
        "method_not_allowed",
        f"Use one of: {allowed}.",
        headers={"Allow": allowed},
    )


def _application_error(request, exc: ApplicationError) -> HttpResponse:
    if isinstance(exc, CreationLimitReached):
        return _creation_limited(exc)
    return problem(exc.status, exc.code, exc.message, errors=exc.errors)


def _creation_limited(exc: CreationLimitReached) -> HttpResponse:
    # The operation's transaction has rolled back by now, so the refusal's event stays.
    creation_refusal_record(error=exc)
    return problem(
        429,
        exc.code,
        exc.message,
        headers={"Retry-After": str(exc.retry_after())},
        extensions={"resets_at": exc.resets_at.astimezone(UTC).isoformat()},
    )


def _validation_error(request, exc: ValidationError) -> HttpResponse:
    errors = [{"field": e.get("field"), "message": e.get("message", "")} for e in exc.errors]
    return problem(422, "validation_error", "The request has invalid fields.", errors=errors)


def _http_error(request, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and exc.__cause__ is not None:
        # ninja wraps whatever the JSON parser raised; the client only needs to know that.
        return problem(400, "invalid_json", "The request body is not valid JSON.")
    status = exc.status_code
    code = _phrase(status).lower().replace(" ", "_").replace("'", "")
    return problem(status, code, str(exc))


def _authentication_error(request, exc: AuthenticationError) -> HttpResponse:
    return unauthorized()


def _not_found(request, exc: Exception) -> HttpResponse:
    return not_found()


def _forbidden(request, exc: DjangoPermissionDenied) -> HttpResponse:
    return problem(403, "forbidden", "You are not allowed to do this.")


def _too_big(request, exc: RequestDataTooBig) -> HttpResponse:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return problem(413, "payload_too_large", f"The request body is over {limit_mb:g} MB.")


def _suspicious(request, exc: SuspiciousOperation) -> HttpResponse:
    return problem(400, "bad_request", "The request was refused.")


def _server_error(request, exc: Exception) -> HttpResponse:
    logger.exception("API request failed: %s %s", request.method, request.path)
    return problem(500, "server_error", "Something went wrong on our side; it has been logged.")


def install_handlers(api) -> None:
    """Make `api` answer every exception with a problem; the most specific class wins."""
    for exc_class, handler in (
        (ApplicationError, _application_error),
        (ValidationError, _validation_error),
        (AuthenticationError, _authentication_error),
        (HttpError, _http_error),
        (Http404, _not_found),
        (ObjectDoesNotExist, _not_found),
        (DjangoPermissionDenied, _forbidden),
        (RequestDataTooBig, _too_big),
        (SuspiciousOperation, _suspicious),
        (Exception, _server_error),
    ):
        api.add_exception_handler(exc_class, handler)
