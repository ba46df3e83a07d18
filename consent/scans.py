"""What a consent's scan (同意書のスキャン) may be: a PDF, JPEG or PNG file, decided by its first
bytes — never by its name or the content type the browser sent — of at most SCAN_MAX_BYTES.

This module is the one place that decides. ``consent.services.consent_record`` calls
``check_scan`` for every scan it is given, from the form or not; the consent form's upload
handler (``consent.uploads``) stops reading a scan past SCAN_MAX_BYTES and the form then shows
``too_large_error``.

A file whose name does not agree with its content (a PNG named ``.pdf``) is refused, not
renamed: the worker most likely chose the wrong file, and the stored name's suffix is what the
download is served as.
"""

from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SCAN_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ScanKind:
    label: str  # what the worker is told the file is
    magic: bytes  # how the file starts
    suffixes: tuple[str, ...]  # the names it may have, the usual one first


KINDS = (
    ScanKind("PDF", b"%PDF-", ("pdf",)),
    ScanKind("JPEG", b"\xff\xd8\xff", ("jpg", "jpeg")),
    ScanKind("PNG", b"\x89PNG\r\n\x1a\n", ("png",)),
)
SUFFIXES = tuple(suffix for kind in KINDS for suffix in kind.suffixes)
_HEAD = max(len(kind.magic) for kind in KINDS)


def megabytes(size: int = SCAN_MAX_BYTES) -> int:
    return size // (1024 * 1024)


def too_large_error() -> ValidationError:
    return ValidationError(
        _("The scan is larger than %(megabytes)s MB. Scan it at a lower resolution."),
        code="scan_too_large",
        params={"megabytes": megabytes()},
    )


def detect(head: bytes) -> ScanKind | None:
    """The kind of file that starts with ``head``, if it is one a scan may be."""
    return next((kind for kind in KINDS if head.startswith(kind.magic)), None)


def _read_head(scan: IO[bytes]) -> bytes:
    scan.seek(0)
    try:
        return scan.read(_HEAD) or b""
    finally:
        scan.seek(0)


def check_scan(scan) -> ScanKind:
    """The kind of ``scan`` (an uploaded file), or a ValidationError saying why it is refused."""
    size = scan.size
    if not size:
        raise ValidationError(_("The scan is empty. Choose the file again."), code="scan_empty")
    if size > SCAN_MAX_BYTES:
        raise too_large_error()
    kind = detect(_read_head(scan))
    if kind is None:
        raise ValidationError(
            _(
                "The scan must be a PDF, JPEG or PNG file. This file is none of them, "
                "whatever its name says."
            ),
            code="scan_type",
        )
    name = scan.name or ""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in kind.suffixes:
        raise ValidationError(
            _(
                "This file is a %(kind)s file but its name does not end in .%(suffix)s. "
                "Check that it is the right file and rename it."
            ),
            code="scan_name",
            params={"kind": kind.label, "suffix": kind.suffixes[0]},
        )
    return kind
