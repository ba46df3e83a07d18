import pytest


@pytest.fixture(autouse=True)
def bundled_municipalities(transactional_db):
    """Browser tests run on a flushed database (live server): load the shipped list again."""
    from agencies.imports import municipalities_import
    from agencies.models import Municipality
    from agencies.municipality_list import BUNDLED_FILE

    if not Municipality.objects.filter(code="202029").exists():
        municipalities_import(actor=None, data=BUNDLED_FILE.read_bytes())
