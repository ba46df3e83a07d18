"""The apps above the gate hand it what they know (which agencies a referral links, what a
支援会議 agenda shares). Without them the gate fails closed — and the system check says so,
so an installation cannot run that way unnoticed."""

from consent import checks, gate


def test_the_running_installation_has_both_sources_and_passes_the_check():
    assert gate.registered_sources() == (1, 1)
    assert checks.gate_sources_registered(None) == []


def test_without_the_sources_the_check_fails_with_both_errors(monkeypatch):
    monkeypatch.setattr(gate, "_link_sources", [])
    monkeypatch.setattr(gate, "_share_sources", [])

    errors = checks.gate_sources_registered(None)

    assert [e.id for e in errors] == ["consent.E001", "consent.E002"]
    assert gate.link_purposes(client=None, agency_id=1) == set()
    assert gate.council_shares(client=None, agency_id=1) == []
