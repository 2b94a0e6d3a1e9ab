"""Every error over HTTP is an RFC 9457 problem document (`application/problem+json`):
`type`, `title`, `status`, `detail`, and `reason`, the machine-readable code that a
refused command's rejection event carries too (schemas.commands.Rejection).

What a client sent never comes back in a problem nor goes to a log: validation errors
name the field and the kind of error, never the value; a 500 says nothing and is logged
by type and place only.
"""

import logging
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from schemas.commands import Rejected
from services.runtime import metrics

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
_MAX_FIELD_ERRORS = 20

# The reason of an HTTP-level problem, by status, when the code raising it named none.
REASON_OF_STATUS: dict[int, str] = {
    400: "bad_request", 401: "unauthenticated", 403: "not_permitted", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "body_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests",
    500: "internal_error", 503: "unavailable",
}

# A refused command's status, by its reason (RFC 9110 §15.5): who may do it → 403, what it
# names does not exist → 404, the state it meets forbids it → 409, any other rule → 422.
# Reasons the services use today are listed; patterns cover reasons to come; each API may
# add its own (HttpApi(refusals=...)).
REFUSAL_STATUS: dict[str, int] = {
    "actor_not_subject": 403, "not_permitted": 403, "four_eyes_violation": 403, "not_in_directory": 403,
    "item_not_in_feed": 404,
    "transition_not_allowed": 409, "source_url_locked": 409, "text_not_editable": 409,
    "item_not_active": 409, "outdated_policy_version": 409, "policy_version_not_newer": 409,
}


def refusal_status(reason: str, table: Mapping[str, int] = REFUSAL_STATUS) -> int:
    """The HTTP status of a command refused with `reason` (see REFUSAL_STATUS)."""
    if reason in table:
        return table[reason]
    if reason.endswith("_not_consented"):
        return 403
    if reason.startswith("unknown_") or reason.endswith("_not_found"):
        return 404
    if reason.endswith(("_exists", "_conflict")):
        return 409
    return 422


class FieldError(BaseModel):
    location: list[str | int] = Field(description="Where in the request: body, query, path or header, then the field")
    type: str = Field(description="Pydantic's error type (docs.pydantic.dev/latest/errors/validation_errors/)")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="Identifies the problem type: urn:advocacy:problem:<reason>")
    title: str
    status: int
    detail: str = Field(default="", description="For people; never echoes what the client sent")
    reason: str = Field(description="Machine-readable code; for a refused command, the rejection event's reason")
    errors: list[FieldError] | None = Field(default=None, description="Fields that failed validation")


class HttpProblem(HTTPException):
    """Raise in an endpoint to answer with a problem document of this status and reason."""

    def __init__(self, status: int, reason: str, detail: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, detail, dict(headers) if headers else None)
        self.reason = reason


def problem_response(status: int, reason: str, detail: str = "", headers: Mapping[str, str] | None = None,
                     errors: list[FieldError] | None = None, title: str | None = None) -> Response:
    if title is None:
        title = _phrase(status) if reason == REASON_OF_STATUS.get(status) else \
            reason.replace("_", " ").capitalize().replace("json", "JSON")
    problem = Problem(type=f"urn:advocacy:problem:{reason}", title=title, status=status, detail=detail,
                      reason=reason, errors=errors)
    return JSONResponse(problem.model_dump(exclude_none=True), status, dict(headers or {}), media_type=MEDIA_TYPE)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def field_errors(errors: list[dict[str, Any]]) -> list[FieldError]:
    """Pydantic's errors less their `input`, `msg` and `ctx`, which may quote what was sent."""
    return [FieldError(location=list(error.get("loc", ())), type=str(error.get("type", "invalid")))
            for error in errors[:_MAX_FIELD_ERRORS]]


def install(app: FastAPI, service: str, refusals: Mapping[str, int]) -> None:
    """Answer every error path of `app` with a problem document."""

    async def http_error(request: Request, error: HTTPException) -> Response:
        reason = getattr(error, "reason", None) or REASON_OF_STATUS.get(error.status_code, "http_error")
        detail = error.detail if isinstance(error.detail, str) and error.detail != _phrase(error.status_code) else ""
        return problem_response(error.status_code, reason, detail, error.headers)

    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem_response(400, "invalid_json", "The body is not valid JSON.")
        return problem_response(422, "invalid_request", "The request does not match the API's schema.",
                                errors=field_errors(list(errors)))

    async def refused(request: Request, rejection: Rejected) -> Response:
        metrics.REJECTED.labels(service, rejection.reason).inc()
        return problem_response(refusal_status(rejection.reason, refusals), rejection.reason, rejection.detail)

    async def unexpected(request: Request, error: Exception) -> Response:
        return problem_response(500, "internal_error")  # logged by HttpApi, which it reaches next

    # Starlette types a handler as taking any Exception; each of these takes the one it is for.
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(Rejected, refused)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected)


def log_unexpected(scope: Mapping[str, Any], error: BaseException) -> None:
    """Log a bug by its type, its endpoint and the stack's places (file, line, function):
    no message, no source line, no request, so no personal data (an exception's message
    may quote a value)."""
    endpoint = getattr(scope.get("endpoint"), "__qualname__", "no endpoint")
    places = " < ".join(f"{frame.filename}:{frame.lineno} {frame.name}"
                        for frame in reversed(traceback.extract_tb(error.__traceback__)))
    log.error("unexpected %s in %s %s, at %s", type(error).__name__, scope.get("method", ""), endpoint, places)
