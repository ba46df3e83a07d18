"""Where consent scans live: under MEDIA_ROOT/private, which no URL serves. They are
downloaded only through a view that checks the viewer (consent.views.consent_scan)."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import LazyObject


class _PrivateStorage(LazyObject):
    def _setup(self):
        # No base_url: these files have no public address.
        self._wrapped = FileSystemStorage(location=settings.MEDIA_ROOT / "private", base_url=None)


private_storage = _PrivateStorage()


def get_private_storage() -> LazyObject:
    """For the model field: a callable, so migrations name it instead of baking in a path;
    the lazy object follows MEDIA_ROOT when it is first used."""
    return private_storage
