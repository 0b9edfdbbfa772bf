"""The NinjaAPI at /api/v1: bearer-token auth, problem+json errors, and each app's router."""

from functools import wraps

from django.http import Http404, HttpResponseNotAllowed
from django.urls import URLPattern, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.errors import ValidationError

from keydesk.accounts.api import tokens_router, users_router
from keydesk.eventlog.api import router as events_router
from keydesk.tickets.api import router as tickets_router

from .auth import ApiTokenAuth
from .docs import SelfHostedSwagger, docs_asset
from .errors import PROBLEM_CONTENT_TYPE, install_handlers, method_not_allowed, not_found
from .schemas import Problem


def _problem_answers(view):
    """Turn the plain-text 405 and the bare 404s ninja makes outside its operations into problems."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found()
        if isinstance(response, HttpResponseNotAllowed):
            return method_not_allowed(response["Allow"])
        return response

    # The API authenticates with bearer tokens only, never cookies, so CSRF cannot apply.
    return csrf_exempt(wrapper)


def _callback(pattern: URLPattern):
    # ninja's schema and docs views answer any method; they are read-only pages.
    if pattern.name in ("openapi-json", "openapi-view"):
        return require_safe(pattern.callback)
    return pattern.callback


@csrf_exempt
def unknown_path(request, *args, **kwargs):
    """Any path under /api/v1/ that names no endpoint."""
    return not_found()


class KeydeskAPI(NinjaAPI):
    """NinjaAPI whose every answer, including unknown paths and wrong methods, is JSON."""

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        patterns = [
            URLPattern(p.pattern, _problem_answers(_callback(p)), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        patterns += [
            path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
            re_path(r"^", unknown_path, name="unknown-path"),
        ]
        return patterns, app_name, namespace

    def validation_error_from_error_contexts(self, error_contexts) -> ValidationError:
        """Name each bad input as the client wrote it: `subject`, `page_size`, `number`."""
        errors = []
        for context in error_contexts:
            model = context.model
            # A single schema body is parsed as {param_name: body}; clients never see param_name.
            body_param = getattr(model, "__read_from_single_attr__", None)
            for error in context.pydantic_validation_error.errors(
                include_url=False, include_context=False, include_input=False
            ):
                loc = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
                if body_param and loc[:1] == (body_param,):
                    loc = loc[1:]
                message = error["msg"]
                if not loc:
                    message = "The request body must be a JSON object."
                errors.append(
                    {
                        "field": ".".join(str(part) for part in loc) or None,
                        "message": message,
                        "loc": (model.__ninja_param_source__, *loc),
                    }
                )
        return ValidationError(errors)

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """ninja's schema plus the problem+json answer every operation may give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        error_response = {
            "description": "An error, as RFC 9457 problem details.",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("responses", {}).setdefault("default", error_response)
        return schema


api = KeydeskAPI(
    title="Keydesk API",
    version="1",
    description=(
        "Send `Authorization: Bearer TOKEN` with a token from your API tokens page. "
        "Errors are `application/problem+json` (RFC 9457)."
    ),
    urls_namespace="api",
    auth=ApiTokenAuth(),
    docs=SelfHostedSwagger(settings={"validatorUrl": None}),
)
install_handlers(api)

api.add_router("/tickets", tickets_router)
api.add_router("/users", users_router)
api.add_router("/tokens", tokens_router)
api.add_router("/events", events_router)
