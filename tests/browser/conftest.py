import pytest
from playwright.sync_api import expect


@pytest.fixture(autouse=True)
def bundled_municipalities(transactional_db):
    """Browser tests run on a flushed database (live server): load the shipped list again."""
    from agencies.imports import municipalities_import
    from agencies.models import Municipality
    from agencies.municipality_list import BUNDLED_FILE

    if not Municipality.objects.filter(code="202029").exists():
        municipalities_import(actor=None, data=BUNDLED_FILE.read_bytes())


def open_section(page, name: str):
    """Open one of the client page's closed sections as a person would (a click on its
    heading), wait for it to load, and return it (``#name``, which takes the place of
    ``#name-section``)."""
    page.locator(f"#{name}-section > summary").click()
    section = page.locator(f"#{name}")
    expect(section).to_be_visible()
    return section


def open_quick_entry(page):
    """Open "Log a consultation" on the client page and wait for its form."""
    page.locator("#quick-section > summary").click()
    form = page.locator("#quick-section form")
    expect(form).to_be_visible()
    return form
