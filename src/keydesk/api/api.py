"""The NinjaAPI at /api/v1: bearer-token auth, problem+json errors, and each app's router."""

from ninja import NinjaAPI

api = NinjaAPI(title="Keydesk API", version="1", urls_namespace="api")
