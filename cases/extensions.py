"""What the apps above cases add to a client's page, registered from their ``AppConfig.ready``.

The client page belongs to cases, but some of what happened with a person is recorded by the
apps that build on cases: consents (consent), referrals (referrals). Cases cannot import those
apps (dependencies point one way), so each hands cases what it contributes:

- a **timeline source**: its rows of the client as (rows, day, at), and how to fetch the rows
  of one page for display (``register_timeline_source``);
- a **flag**: a count of something that must catch the eye while the page's sections are still
  closed, e.g. emergency disclosures running now (``register_flag``);
- a **caseload panel**: a box at the top of the caseload page, e.g. referrals assigned to me
  and unread reminders (``register_caseload_panel``).

Every source is asked with the client and the viewer's ``client_scope``; it must filter its
rows through that scope in the same query, so a client object that did not come from
``client_get`` still shows nothing the viewer may not see.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Expression, Q, QuerySet


@dataclass(frozen=True)
class TimelineSource:
    kind: str  # the entry kind, as the timeline template knows it
    filter_kind: str  # the timeline filter that shows these entries
    filter_label: str  # that filter's label (several kinds may share one filter)
    # (client, scope) -> (the client's rows, their day, their moment within the day)
    rows: Callable[[object, QuerySet], tuple[QuerySet, Expression, Expression]]
    # (client, scope, ids) -> the rows of one page, joined as the entry shows them. None: the
    # rows are fetched with those of ``fetched_with`` (a consent and its withdrawal are one row).
    fetch: Callable[[object, QuerySet, list[int]], Iterable] | None = None
    fetched_with: str | None = None

    @classmethod
    def of_model(
        cls,
        kind: str,
        filter_kind: str,
        filter_label: str,
        model,
        *,
        where: Callable[[object, QuerySet], Q],
        day: Expression,
        at: Expression,
        related: tuple[str, ...] = (),
    ) -> "TimelineSource":
        """The common case: the ``model`` rows ``where(client, scope)`` holds, fetched for a page
        with ``related`` joined."""
        return cls(
            kind,
            filter_kind,
            filter_label,
            rows=lambda client, scope: (model.objects.filter(where(client, scope)), day, at),
            fetch=lambda client, scope, pks: model.objects.filter(
                where(client, scope), pk__in=pks
            ).select_related(*related),
        )


@dataclass(frozen=True)
class Flag:
    name: str
    # () -> the rows to count per client (filtered on ``client`` by the caller, through scope)
    rows: Callable[[], QuerySet]


_timeline_sources: dict[str, TimelineSource] = {}
_flags: dict[str, Flag] = {}


def register_timeline_source(source: TimelineSource) -> None:
    _timeline_sources[source.kind] = source


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources.values())


def register_flag(flag: Flag) -> None:
    _flags[flag.name] = flag


def flags() -> list[Flag]:
    return list(_flags.values())


@dataclass(frozen=True)
class CaseloadPanel:
    """A box at the top of the caseload page: ``read(viewer, shown)`` answers its context (the
    oldest ``shown`` rows and whether more wait), e.g. referrals assigned to me, unread
    reminders."""

    name: str
    read: Callable[[object, int], dict]


_caseload_panels: dict[str, CaseloadPanel] = {}


def register_caseload_panel(panel: CaseloadPanel) -> None:
    _caseload_panels[panel.name] = panel


def caseload_panels() -> list[CaseloadPanel]:
    return list(_caseload_panels.values())
