"""The upload handler of the consent form: it stops the upload once the files sent pass the
scan's limit, while the request streams in, instead of after the whole file was received.

Installed first, for the consent form's view only (``consent.views.consent_new``), before the
request's body is read. Past the limit it raises ``StopUpload(connection_reset=False)``: from
there Django hands no more of the body to any handler (nothing more is kept in memory or in a
temporary file, and the partial file is closed and dropped), drains the rest of the body
unparsed so that the browser reads the answer, and the view shows the form again with
``consent.scans.too_large_error``. Fields sent after the file are lost: the form puts the scan
last, so a browser sends everything typed before it.
"""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from .scans import SCAN_MAX_BYTES


class FileSizeLimitHandler(FileUploadHandler):
    """Counts the bytes of the request's files (together) and stops past ``max_bytes``."""

    def __init__(self, request: HttpRequest | None = None, max_bytes: int = SCAN_MAX_BYTES):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data  # on to the handlers that keep the file

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the uploaded file


def limit_uploads(request: HttpRequest, max_bytes: int = SCAN_MAX_BYTES) -> FileSizeLimitHandler:
    """Put the limit first among the request's upload handlers. Only before the body is read:
    Django's setter raises AttributeError after, rather than let the limit be skipped."""
    handler = FileSizeLimitHandler(request, max_bytes)
    request.upload_handlers = [handler, *request.upload_handlers]
    return handler
