"""The scan of a signed consent form (同意書のスキャン) is a PDF, JPEG or PNG by its content, its
name agreeing, and is stopped while it streams in once it passes the limit (consent.scans,
consent.uploads). Through the real view, as 田中 (station A's caseworker) recording 山本's
consent to pass information to 自立相談 B."""

import datetime
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import empty
from django.utils.translation import gettext

from consent.models import Consent, DataCategory
from consent.scans import SCAN_MAX_BYTES
from consent.services import consent_record
from consent.storage import private_storage
from tests.conftest import login_as, viewer_for

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
CHUNK = FileUploadHandler.chunk_size  # what the parser hands the handlers at a time

# Real files, small: each opens in a PDF reader or a browser (a 1×1 pixel image).
PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
JPEG = (
    b"\xff\xd8"
    b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xdb\x00\x43\x00" + b"\x01" * 64 + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    b"\xff\xc4\x00\x14\x00\x01"
    + b"\x00" * 16
    + b"\xff\xc4\x00\x14\x10\x01"
    + b"\x00" * 16
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x3f"
    b"\xff\xd9"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff"))
    + _png_chunk(b"IEND", b"")
)
HTML = b"<!DOCTYPE html><html><body><script>fetch('/cases/')</script></body></html>\n"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">'
    b"<script>alert(document.cookie)</script></svg>\n"
)


def _zip_of_zeros() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros", bytes(4 * MiB))
    return buffer.getvalue()


def ja(message: str) -> str:
    with translation.override("ja"):
        return gettext(message)


NOT_A_SCAN = (
    "The scan must be a PDF, JPEG or PNG file. This file is none of them, whatever its name says."
)
WRONG_NAME = (
    "This file is a %(kind)s file but its name does not end in .%(suffix)s. "
    "Check that it is the right file and rename it."
)
EMPTY = "The scan is empty. Choose the file again."
TOO_LARGE = "The scan is larger than %(megabytes)s MB. Scan it at a lower resolution."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Scans go to a temporary MEDIA_ROOT (the private storage is set up again for it)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    private_storage._wrapped = empty
    yield settings.MEDIA_ROOT
    private_storage._wrapped = empty


def stored_files(media: Path) -> list[Path]:
    private = media / "private"
    return [path for path in private.rglob("*") if path.is_file()] if private.exists() else []


def typed(to) -> dict:
    """What 田中 typed: every field set to something other than its default."""
    return {
        "recipient": str(to.public_id),
        "purpose": "referral",
        "categories": [DataCategory.BASIC, DataCategory.HEALTH],
        "method": "written",
        "given_by": "guardian",
        "representative_name": "山本 花子",
        "obtained_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "valid_until": (timezone.localdate() + datetime.timedelta(days=200)).isoformat(),
    }


def assert_typed_kept(response, to) -> None:
    form = response.context["form"]
    expected = typed(to)
    for name, value in expected.items():
        assert form[name].value() == value, name
    assert "山本 花子" in response.text


@pytest.fixture
def new_url(yamamoto):
    return reverse("consent:new", args=[yamamoto.public_id])


# --- What is stored ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        pytest.param("同意書.pdf", PDF, "application/pdf", id="pdf"),
        pytest.param("scan.JPG", JPEG, "image/jpeg", id="jpeg-upper-case-name"),
        pytest.param("scan.jpeg", JPEG, "image/jpeg", id="jpeg"),
        pytest.param("scan.png", PNG, "image/png", id="png"),
    ],
)
def test_a_pdf_jpeg_or_png_is_stored_and_downloaded(
    client, tanaka, jiritsu_b, new_url, media, name, content, content_type
):
    login_as(client, tanaka)

    response = client.post(
        new_url,
        typed(jiritsu_b)
        # What the browser says the file is does not count, either way.
        | {"scan": SimpleUploadedFile(name, content, content_type="application/octet-stream")},
    )

    assert response.status_code == 302
    consent = Consent.objects.get()
    [stored] = stored_files(media)
    assert stored.read_bytes() == content
    download = client.get(reverse("consent:scan", args=[consent.public_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == content_type


# --- What is refused, nothing kept but what was typed -----------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message", "params"),
    [
        pytest.param("同意書.pdf", HTML, NOT_A_SCAN, {}, id="html-named-pdf"),
        pytest.param("同意書.png", SVG, NOT_A_SCAN, {}, id="svg-named-png"),
        pytest.param("同意書.pdf", _zip_of_zeros(), NOT_A_SCAN, {}, id="zip-named-pdf"),
        pytest.param("同意書.exe", b"MZ\x90\x00", NOT_A_SCAN, {}, id="program"),
        pytest.param(
            "同意書.pdf", PNG, WRONG_NAME, {"kind": "PNG", "suffix": "png"}, id="png-named-pdf"
        ),
        pytest.param(
            "同意書.png", JPEG, WRONG_NAME, {"kind": "JPEG", "suffix": "jpg"}, id="jpeg-named-png"
        ),
        pytest.param(
            "同意書", PDF, WRONG_NAME, {"kind": "PDF", "suffix": "pdf"}, id="pdf-without-suffix"
        ),
        pytest.param("同意書.pdf", b"", EMPTY, {}, id="empty"),
    ],
)
def test_a_file_that_is_not_what_a_scan_may_be_is_refused(
    client, tanaka, jiritsu_b, new_url, media, name, content, message, params
):
    login_as(client, tanaka)

    response = client.post(
        new_url,
        typed(jiritsu_b)
        # The browser's word for the type is the name's: it is not believed.
        | {"scan": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["scan"] == [ja(message) % params]
    assert ja(message) % params in response.text
    assert not Consent.objects.exists()
    assert stored_files(media) == []
    assert_typed_kept(response, jiritsu_b)


def test_the_service_refuses_it_too_without_the_form(tanaka, yamamoto, jiritsu_b, media):
    with pytest.raises(ValidationError) as refused:
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC],
            method="written",
            scan=SimpleUploadedFile("同意書.pdf", HTML, content_type="application/pdf"),
        )

    assert refused.value.message_dict == {"scan": [ja(NOT_A_SCAN)]}
    assert not Consent.objects.exists()
    assert stored_files(media) == []


def test_the_service_refuses_a_scan_over_the_limit(tanaka, yamamoto, jiritsu_b, media):
    too_large = SimpleUploadedFile("同意書.pdf", PDF + bytes(SCAN_MAX_BYTES + 1 - len(PDF)))

    with pytest.raises(ValidationError) as refused:
        consent_record(
            viewer=viewer_for(tanaka),
            client=yamamoto,
            recipient=jiritsu_b,
            purpose="referral",
            categories=[DataCategory.BASIC],
            method="written",
            scan=too_large,
        )

    assert refused.value.message_dict == {"scan": [ja(TOO_LARGE) % {"megabytes": 20}]}
    assert stored_files(media) == []


# --- The size, while the upload streams in ----------------------------------------------------


class CountingHandler(FileUploadHandler):
    """Placed after the consent view's limit, before Django's own handlers: counts the bytes
    of the file that reach the handlers that keep it (in memory or in a temporary file)."""

    received: list[int] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        CountingHandler.received.append(0)

    def receive_data_chunk(self, raw_data, start):
        CountingHandler.received[-1] += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def counted(settings):
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.test_consent_scans.CountingHandler",
        *settings.FILE_UPLOAD_HANDLERS,
    ]
    CountingHandler.received = []
    return CountingHandler.received


class StreamedForm(io.RawIOBase):
    """The consent form as a browser sends it — the fields, then the scan last — made while it
    is read: a PDF header and ``size`` bytes in all, without holding them in memory."""

    boundary = "----tsunagu-scan-boundary"

    def __init__(self, fields: dict, size: int):
        super().__init__()
        head = io.BytesIO()
        for name, values in fields.items():
            for value in values if isinstance(values, list) else [values]:
                head.write(
                    f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
        head.write(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="scan"; '
            f'filename="同意書.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        )
        head.write(b"%PDF-1.4\n")
        self.head = head.getvalue()
        self.zeros = size - len(b"%PDF-1.4\n")
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(self.head) + self.zeros + len(self.tail)
        self._pieces = self._make_pieces()
        self._buffer = memoryview(b"")

    def _make_pieces(self):
        yield self.head
        zeros, left = bytes(MiB), self.zeros
        while left:
            yield zeros[: min(left, MiB)]
            left -= min(left, MiB)
        yield self.tail

    def readable(self):
        return True

    def read(self, size=-1, line=False):
        out = bytearray()
        while size is None or size < 0 or len(out) < size:
            if not self._buffer:
                self._buffer = memoryview(next(self._pieces, b""))
                if not self._buffer:
                    break
            take = len(self._buffer) if size is None or size < 0 else size - len(out)
            if line and (newline := bytes(self._buffer[:take]).find(b"\n")) >= 0:
                take = newline + 1
            out += self._buffer[:take]
            self._buffer = self._buffer[take:]
            if line and out.endswith(b"\n"):
                break
        return bytes(out)

    def readline(self, size=-1):
        return self.read(size, line=True)

    def environ(self) -> dict:
        return {
            "wsgi.input": self,
            "CONTENT_LENGTH": str(self.length),
            "CONTENT_TYPE": f"multipart/form-data; boundary={self.boundary}",
        }


def test_a_50_mb_scan_is_stopped_at_the_limit_and_the_form_comes_back(
    client, tanaka, jiritsu_b, new_url, media, counted
):
    login_as(client, tanaka)
    body = StreamedForm(typed(jiritsu_b), size=50 * MiB)

    response = client.generic("POST", new_url, **body.environ())

    assert response.status_code == 200
    assert response.context["form"].errors["scan"] == [ja(TOO_LARGE) % {"megabytes": 20}]
    assert_typed_kept(response, jiritsu_b)
    assert not Consent.objects.exists()
    assert stored_files(media) == []
    # Past the limit no more of the file went on to be kept: it was stopped at 20 MB, well
    # before the end of the 50 it had (the rest is drained unparsed, for the answer to arrive).
    [kept] = counted
    assert SCAN_MAX_BYTES - 2 * CHUNK < kept <= SCAN_MAX_BYTES
    assert kept < body.length // 2


def test_a_scan_of_exactly_the_limit_is_stored_whole(
    client, tanaka, jiritsu_b, new_url, media, counted
):
    login_as(client, tanaka)
    scan = PDF + bytes(SCAN_MAX_BYTES - len(PDF))

    response = client.post(new_url, typed(jiritsu_b) | {"scan": SimpleUploadedFile("a.pdf", scan)})

    assert response.status_code == 302
    assert counted == [SCAN_MAX_BYTES]
    [stored] = stored_files(media)
    assert stored.stat().st_size == SCAN_MAX_BYTES


def test_the_scan_is_the_last_field_so_everything_typed_arrives_before_it(client, tanaka, new_url):
    login_as(client, tanaka)

    page = client.get(new_url).text

    form = re.search(r'<form method="post" enctype="multipart/form-data".*?</form>', page, re.S)
    names = re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', form[0])
    form_fields = [name for name in names if name not in ("csrfmiddlewaretoken", "next")]
    assert form_fields[-1] == "scan"
    assert names[0] == "csrfmiddlewaretoken"


def test_the_form_still_needs_its_csrf_token(tanaka, jiritsu_b, new_url, media):
    # The view is exempt from the middleware's check only to set the limit first: it makes the
    # check itself.
    client = login_as(Client(enforce_csrf_checks=True), tanaka)
    scan = {"scan": SimpleUploadedFile("同意書.pdf", PDF)}

    refused = client.post(new_url, typed(jiritsu_b) | scan)

    assert refused.status_code == 403
    assert not Consent.objects.exists()
    assert stored_files(media) == []

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(new_url).text)
    scan = {"scan": SimpleUploadedFile("同意書.pdf", PDF)}
    accepted = client.post(new_url, typed(jiritsu_b) | scan | {"csrfmiddlewaretoken": token[1]})

    assert accepted.status_code == 302
    assert Consent.objects.count() == 1
