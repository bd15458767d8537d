"""The app's request class."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

#: Where the input guard (``ops.body_guard.check_json``) leaves the JSON document it parsed,
#: with the body it parsed it from.
PARSED_JSON = "totetaxi.parsed_json"


class AppRequest(Request):
    """Pyramid's request, with ``json_body`` parsed once per request.

    The input guard has parsed (and judged) a JSON body before any view runs; WebOb's
    ``json_body`` would parse it again on every access (Cornice's validation is one). The guard's
    document is answered while the body is still the one it parsed.
    """

    def _parsed_json_body(self) -> Any:
        parsed = self.environ.get(PARSED_JSON)
        if parsed is not None and self.body == parsed[0]:
            return parsed[1]
        return Request.json_body.fget(self)

    json_body = property(_parsed_json_body, Request.json_body.fset, Request.json_body.fdel)
