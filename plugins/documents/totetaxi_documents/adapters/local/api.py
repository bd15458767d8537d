"""The local storage's two routes: the signed upload form's target and the signed download.

Neither reads a cookie or an account: the signature is the credential, as for S3's presigned
URLs. The upload path accepts ``multipart/form-data`` up to the documents' size limit (the
core's JSON-only and body-size rules are lifted for it alone, ``accept_any_body``).
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.security import NO_PERMISSION_REQUIRED
from totetaxi_core.plugin_api import find_service, json_error

from ...disposition import attachment
from ...interfaces import StorageError
from .storage import FILES_PATH, UPLOAD_PATH, LocalStorage

SERVICE = "storage_local.storage"


def _storage(request: Request) -> LocalStorage:
    return find_service(request, SERVICE)


def upload_view(request: Request) -> Response:
    storage = _storage(request)
    form = request.POST
    fields = {
        name: str(form.get(name, "")) for name in ("key", "Content-Type", "max_size", "expires")
    }
    expected = storage.upload_signature(
        fields["key"], fields["Content-Type"], fields["max_size"], fields["expires"]
    )
    problem = storage.verify(str(form.get("signature", "")), expected, fields["expires"])
    if problem:
        return json_error(request, 403, "signature", problem)
    upload: Any = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        return json_error(request, 400, "file", "Send the file as the form's file field.")
    limit = int(fields["max_size"])
    data = upload.file.read(limit + 1)
    if len(data) > limit or not data:
        return json_error(request, 400, "file", f"The file must be 1 to {limit} bytes.")
    sent_type = getattr(upload, "type", "") or ""
    if sent_type and sent_type.split(";")[0].strip().lower() != fields["Content-Type"]:
        return json_error(request, 400, "file", "The file's type is not the form's.")
    try:
        storage.write(fields["key"], data, fields["Content-Type"])
    except StorageError as exc:
        return json_error(request, 400, "key", str(exc))
    return Response(status=204)


def download_view(request: Request) -> Response:
    storage = _storage(request)
    key = "/".join(request.matchdict["key"])
    query = request.GET
    filename, content_type = query.get("filename", ""), query.get("type", "")
    expires = query.get("expires", "")
    expected = storage.download_signature(key, filename, content_type, expires)
    problem = storage.verify(query.get("signature", ""), expected, expires)
    if problem:
        return json_error(request, 403, "signature", problem, "querystring")
    try:
        path = storage.path_of(key)
    except StorageError:
        path = None
    if path is None or not path.is_file():
        return json_error(request, 404, "key", "No such file.", "path")
    response = FileResponse(str(path), request=request, content_type=content_type)
    response.headers["Content-Disposition"] = attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def includeme(config: Configurator) -> None:
    max_bytes = config.get_settings()["documents.max_upload_bytes"]
    config.add_route("storage_local_upload", UPLOAD_PATH, request_method="POST")
    config.add_route("storage_local_file", FILES_PATH + "/*key", request_method="GET")
    config.add_view(
        upload_view,
        route_name="storage_local_upload",
        request_method="POST",
        permission=NO_PERMISSION_REQUIRED,
        require_csrf=False,  # signed form, no cookie acted on
    )
    config.add_view(
        download_view,
        route_name="storage_local_file",
        request_method="GET",
        permission=NO_PERMISSION_REQUIRED,
    )
    # The form's multipart body (the file plus its fields) may be as large as a document.
    config.accept_any_body(UPLOAD_PATH, max_bytes=max_bytes + 64 * 1024)
