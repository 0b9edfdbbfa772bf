"""Swagger UI at /api/v1/docs served from our own host, so it runs under the site's strict CSP.

ninja's Swagger page loads its scripts from a CDN unless "ninja" is an installed app; the
site's Content-Security-Policy ("script-src 'self'; style-src 'self'") would block that. This
page uses ninja's bundled files (no inline script: the settings travel as a JSON data block
read by ninja's swagger-ui-init.js), served by `docs_asset` below from ninja's package.
"""

from pathlib import Path

import ninja
from django.http import FileResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger

from .errors import not_found

_NINJA_STATIC = Path(ninja.__file__).resolve().parent / "static" / "ninja"
DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}


class SelfHostedSwagger(Swagger):
    template = "api/docs.html"

    def render_page(self, request, api, **kwargs):
        """The Swagger page, pointing at this API's OpenAPI document."""
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, self.template, {"api": api, "swagger_settings": settings})


def docs_asset(request, name: str):
    """One of Swagger UI's files from ninja's package; nothing else is reachable here."""
    content_type = DOCS_ASSETS.get(name)
    if content_type is None or request.method not in ("GET", "HEAD"):
        return not_found()
    response = FileResponse((_NINJA_STATIC / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
