"""The API document for people: Swagger UI at ``/api/v1/docs``.

Swagger UI's files come from the ``openapi-ui-bundles`` distribution (a dependency of the
core; Swagger UI 5, which reads OpenAPI 3.1), served by this app: nothing is loaded from a CDN,
so the page works offline. The page obeys the console's Content-Security-Policy (scripts and
styles from this origin's files only): no inline script, the start-up code is
``static/swagger-init.js`` of this package, and the document's URL reaches it in a
``data-`` attribute.

Only the files the page uses are served (:data:`ASSETS`): the distribution also ships a demo
``index.html`` pointing at a remote petstore, which must not appear under this app's URLs.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from markupsafe import escape
from openapi_ui_bundles import swagger_ui
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.security import NO_PERMISSION_REQUIRED

from .errors import API_PREFIX

DOCS_PATH = API_PREFIX + "/docs"
ASSETS_PATH = DOCS_PATH + "/assets"
#: An asset's URL names no version, so a browser keeps it an hour at most.
CACHE_SECONDS = 3600
_VENDOR = Path(swagger_ui.static_path)
_OWN = Path(str(resources.files(__package__) / "static"))
#: The files the page loads, by the name they are served under.
ASSETS: dict[str, Path] = {
    "swagger-ui.css": _VENDOR / "swagger-ui.css",
    "swagger-ui-bundle.js": _VENDOR / "swagger-ui-bundle.js",
    "favicon-32x32.png": _VENDOR / "favicon-32x32.png",
    "swagger-init.js": _OWN / "swagger-init.js",
}
_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ToteTaxi API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<noscript>Swagger UI needs JavaScript. The document itself is at
<a href="{document}">{document}</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{document}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def docs_view(request: Request) -> Response:
    """Swagger UI over this app's OpenAPI document."""
    # Relative to the application's root, so a deployment under a path prefix keeps working.
    page = PAGE.format(
        assets=escape(request.route_path("api_docs_asset", name="").rstrip("/")),
        document=escape(request.route_path("openapi")),
    )
    response = Response(page, content_type="text/html", charset="utf-8")
    response.cache_control = "no-cache"
    return response


def asset_view(request: Request) -> Response:
    """One of :data:`ASSETS`; anything else is a 404."""
    path = ASSETS.get(request.matchdict["name"])
    if path is None:
        raise HTTPNotFound()
    response = FileResponse(str(path), request=request, content_type=_TYPES[path.suffix])
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


def includeme(config: Configurator) -> None:
    config.add_route("api_docs", DOCS_PATH)
    config.add_route("api_docs_asset", ASSETS_PATH + "/{name}")
    for route, view in (("api_docs", docs_view), ("api_docs_asset", asset_view)):
        config.add_view(
            view, route_name=route, request_method="GET", permission=NO_PERMISSION_REQUIRED
        )
