"""A system check that the gate was told what the apps above it know.

Without a link source the consent basis never opens, and without a share source no 支援会議
shares anything: the gate fails closed, which is safe but would silently stop partners from
seeing what the person agreed to. An installation with those apps must have them registered.
"""

from django.apps import apps
from django.core import checks

from .gate import registered_sources


@checks.register(checks.Tags.security)
def gate_sources_registered(app_configs, **kwargs) -> list[checks.CheckMessage]:
    links, shares = registered_sources()
    problems = []
    if apps.is_installed("referrals") and not links:
        problems.append(
            checks.Error(
                "The consent gate has no link source: accepted referrals open nothing.",
                hint="referrals.apps.ReferralsConfig.ready registers referrals.links.",
                id="consent.E001",
            )
        )
    if apps.is_installed("councils") and not shares:
        problems.append(
            checks.Error(
                "The consent gate has no share source: 支援会議 agendas share nothing.",
                hint="councils.apps.CouncilsConfig.ready registers councils.sharing.",
                id="consent.E002",
            )
        )
    return problems
