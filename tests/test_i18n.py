"""The Japanese catalogue is complete and compiled: the UI is Japanese first."""

import gettext
import re
from pathlib import Path

from django.urls import reverse

from tests.conftest import login_as

PO = Path(__file__).resolve().parent.parent / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def _po_entries() -> list[tuple[str, str, bool, str | None]]:
    """(msgid, msgstr, fuzzy, context) for every entry but the header, joining continued
    lines."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue  # obsolete
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            translation = fields.get("msgstr", fields.get("msgstr[0]", ""))
            entries.append(
                (fields["msgid"], translation, "#, fuzzy" in block, fields.get("msgctxt"))
            )
    return entries


def test_every_message_has_a_japanese_translation():
    untranslated = [msgid for msgid, msgstr, fuzzy, _ctx in _po_entries() if not msgstr or fuzzy]

    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    with PO.with_suffix(".mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)

    def compiled(msgid: str, context: str | None) -> str:
        return catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)

    stale = [
        msgid
        for msgid, msgstr, _fuzzy, context in _po_entries()
        if "\\" not in msgid and compiled(msgid, context) != msgstr.replace('\\"', '"')
    ]
    assert stale == [], "run manage.py compilemessages"


def test_a_selects_empty_choice_is_in_japanese(client, tanaka):
    # Django 6.1's "- Select an option -" has no Japanese in Django itself: ours supplies it.
    login_as(client, tanaka)

    page = client.get(reverse("cases:client_create")).content.decode()

    assert ">選択してください</option>" in page
    assert "Select an option" not in page
