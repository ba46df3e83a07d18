"""The client picker in the browser: 田中 puts 山本さん on a 支援会議 session's agenda by typing
his reading in half-width katakana and choosing him with the keyboard, and links 山本さん's
mother to her own client record by typing in hiragana, among 200 other clients of the agency."""

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from agencies.permissions import Viewer
from cases.services import household_save
from councils.models import AgendaItem
from councils.services import council_create, council_member_add, council_session_create
from tests.browser.test_agency_picker import pick_agency
from tests.browser.test_roster import field, log_in
from tests.conftest import PASSWORD, viewer_for
from tests.test_client_picker import bulk_clients, register

pytestmark = pytest.mark.browser


def test_a_caseworker_puts_a_client_on_the_agenda_by_kana(
    live_server,
    page,
    sysadmin,
    suzuki,
    tanaka,
    jiritsu_b,
    station_a,
    nagano_city,
    yamamoto,
    output_path,
):
    today = timezone.localdate()
    council = council_create(
        viewer=Viewer(user=sysadmin, membership=None),
        municipality=nagano_city,
        name="長野市支援会議",
        legal_basis="self_reliance_9",
        chair_agency=jiritsu_b,
        confidentiality_note="",
        established_on=today - datetime.timedelta(days=60),
    )
    council_member_add(
        viewer=viewer_for(suzuki),
        council=council,
        agency=station_a,
        joined_on=today - datetime.timedelta(days=30),
    )
    session = council_session_create(
        viewer=viewer_for(suzuki), council=council, held_on=today, title="第3回"
    )
    # Namesakes by reading: the first match is not the one wanted.
    register(tanaka, "山本 太一", "ヤマモト タイチ", datetime.date(1990, 1, 1))
    bulk_clients(station_a, 200)
    shots = Path(output_path)
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("councils:session", args=[session.public_id]))

    box = field(page, "対象者（自機関の相談者）")
    expect(box).to_have_attribute("role", "combobox")
    box.click()
    box.press_sequentially("ﾔﾏﾓﾄ", delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=shots / "client-picker-1-agenda-typed.png", full_page=True)

    pick_agency(page, "対象者（自機関の相談者）", "", "山本 太郎（ヤマモト タロウ、1973-05-10）")
    expect(box).to_be_focused()
    page.get_by_label("基本情報（氏名・連絡先・住所）", exact=True).check()
    field(page, "支援会議で検討する理由").fill("8050世帯")
    page.get_by_role("button", name="議題に載せる").click()

    expect(page.get_by_role("alert").first).to_be_visible()
    page.screenshot(path=shots / "client-picker-2-on-the-agenda.png", full_page=True)
    item = AgendaItem.objects.get()
    assert item.client == yamamoto


def test_a_caseworker_links_a_household_member_to_her_client_record(
    live_server, page, tanaka, station_a, yamamoto, output_path
):
    household_save(viewer=viewer_for(tanaka), client=yamamoto, postal_code="", address="", note="")
    hanako = register(tanaka, "山本 花子", "ヤマモト ハナコ", datetime.date(1944, 3, 3))
    bulk_clients(station_a, 200)
    log_in(page, live_server.url, "tanaka", PASSWORD)
    page.goto(live_server.url + reverse("cases:member_add", args=[yamamoto.public_id]))

    field(page, "続柄（本人から見て）").select_option(label="母")
    pick_agency(page, "当機関の相談者", "やまもと", "山本 花子（ヤマモト ハナコ、1944-03-03）")
    # The client himself is not offered as his own household member.
    box = field(page, "当機関の相談者")
    box.fill("")
    box.press_sequentially("やまもと", delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options).not_to_contain_text("山本 太郎")
    box.press("Enter")
    expect(box).to_have_value("山本 花子（ヤマモト ハナコ、1944-03-03）")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("世帯員を追加しました。")).to_be_visible()
    yamamoto.refresh_from_db()
    mother = yamamoto.household.members.get(relationship="mother")
    assert mother.client == hanako
    Path(output_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=Path(output_path) / "client-picker-3-member-linked.png", full_page=True)
