"""Serving stored media through authenticated views; media is never public.

Local storage streams the file (with single byte ranges, which Safari needs to play audio);
remote storage (S3) redirects to a short-lived presigned URL (``storage.url()`` signs it).
"""

import hashlib
import re

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from rest_framework.renderers import BaseRenderer, JSONRenderer

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A ranged answer carries at most this much; players ask again for the rest.
MAX_RANGE_BYTES = 4 * 1024 * 1024


def versioned_url(url: str, stored_name: str) -> str:
    """``url?v=…``, naming this version of the stored file. A file that is replaced (a live
    stream's recording and clip are completed once the scream has ended) gets a new URL, so no cache
    serves the old one for its max-age, and a page can tell that it changed."""
    return f"{url}?v={hashlib.sha256(stored_name.encode()).hexdigest()[:12]}"


class StoredFileRenderer(BaseRenderer):
    """Lets file endpoints answer any Accept header; errors are still JSON."""

    media_type = "*/*"
    format = "file"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, renderer_context=renderer_context)


FILE_RENDERERS = [JSONRenderer, StoredFileRenderer]


def stored_file_response(request, name: str, *, content_type: str, download_name: str | None = None) -> HttpResponse:
    """The stored file ``name``: inline, or as an attachment called ``download_name``."""
    if not isinstance(default_storage, FileSystemStorage):
        # The object store answers the presigned URL with the type and disposition signed into it,
        # whatever type the object was stored with.
        disposition = content_disposition_header(download_name is not None, download_name or name.rsplit("/", 1)[-1])
        return HttpResponseRedirect(
            default_storage.url(
                name, parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition}
            )
        )
    size = default_storage.size(name)
    byte_range = _parse_range(request.headers.get("Range", ""), size)
    if byte_range is None:
        response = FileResponse(
            default_storage.open(name, "rb"),
            content_type=content_type,
            as_attachment=download_name is not None,
            filename=download_name or "",
        )
    elif byte_range == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = byte_range
        with default_storage.open(name, "rb") as stored:
            stored.seek(start)
            body = stored.read(end - start + 1)
        response = HttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        if download_name is not None:
            response["Content-Disposition"] = content_disposition_header(True, download_name)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _parse_range(header: str, size: int):
    """(first, last) byte of a single ``bytes=`` range, "unsatisfiable", or None to send it all."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, min(end, start + MAX_RANGE_BYTES - 1)
