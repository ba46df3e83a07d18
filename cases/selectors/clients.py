"""Finding clients (the search and the possible-duplicate check on registering) and the client
page: its cases and the flags shown while its sections are still closed.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.permissions import Viewer, is_supervisor_of
from audit.models import AccessEntry
from core.japanese import search_key
from core.pagination import KeysetPage, keyset_page

from ..extensions import flags
from ..models import Case, CaseTopic, Client, HomeVisit, Stage, StageMove, Topic
from .scope import case_scope, client_scope


def _words(text: str) -> list[str]:
    return [search_key(word) for word in text.split() if search_key(word)]


def client_search(
    *,
    viewer: Viewer,
    text: str = "",
    birth_date: date | None = None,
    cursor: str | None = None,
    with_open_case: bool = False,
) -> KeysetPage:
    """Clients of the viewer's agency by name or reading, insensitive to script, width and
    spaces (田中 太郎 = 田中太郎 = ﾀﾅｶ ﾀﾛｳ = たなか たろう), and by date of birth;
    ``with_open_case``: only those with an open case (what a 支援調整会議 may discuss)."""
    clients = client_scope(viewer=viewer)
    if with_open_case:
        open_case = Case.objects.filter(client=OuterRef("pk")).exclude(stage=Stage.CLOSED)
        clients = clients.filter(Exists(open_case))
    whole = search_key(text)
    if whole:
        # The whole query without spaces first (田中太郎 typed as 田中 太郎), else every word.
        by_words = Q()
        for word in _words(text):
            by_words &= Q(name_key__contains=word) | Q(kana_key__contains=word)
        clients = clients.filter(
            Q(name_key__contains=whole) | Q(kana_key__contains=whole) | by_words
        )
    if birth_date is not None:
        clients = clients.filter(birth_date=birth_date)
    clients = clients.prefetch_related(
        Prefetch("cases", queryset=Case.objects.exclude(stage=Stage.CLOSED), to_attr="open_cases")
    )
    return keyset_page(clients, ordering=["kana_key", "id"], cursor=cursor)


def client_possible_duplicates(
    *, viewer: Viewer, full_name: str, full_name_kana: str, birth_date: date | None
) -> list[Client]:
    """Clients of this agency who may be the same person: the same reading and birth date, the
    same name, or the same reading with a birth date a digit off (a typo)."""
    kana = search_key(full_name_kana)
    name = search_key(full_name)
    conditions = Q()
    if kana and birth_date:
        conditions |= Q(kana_key=kana, birth_date=birth_date)
        conditions |= Q(kana_key=kana, birth_date__year=birth_date.year)
    if name and birth_date:
        conditions |= Q(name_key=name, birth_date=birth_date)
    if kana and not birth_date:
        conditions |= Q(kana_key=kana)
    if name:
        conditions |= Q(name_key=name, birth_date__isnull=True)
    if not conditions:
        return []
    return list(client_scope(viewer=viewer).filter(conditions).order_by("id")[:10])


def client_cases(*, viewer: Viewer, client: Client) -> list[Case]:
    """All cases of the client, newest first, with topics, workers and stage history."""
    return list(
        case_scope(viewer=viewer)
        .filter(client=client)
        .select_related("client", "primary_worker")
        .prefetch_related(
            "topics",
            "co_workers",
            Prefetch("stage_moves", queryset=StageMove.objects.select_related("moved_by")),
        )
        .order_by("-opened_on", "-id")
    )


def client_page_cases(*, viewer: Viewer, client: Client) -> list[Case]:
    """The client's cases for the top of the client page, newest first, in one query: each
    with its primary worker, ``topic_labels`` [(label, is_main)] (the main one first) and
    ``co_worker_names``. The stage history loads on demand (``client_cases``)."""
    cases = list(
        case_scope(viewer=viewer)
        .filter(client=client)
        .select_related("primary_worker")
        .annotate(
            topic_codes=ArraySubquery(
                CaseTopic.objects.filter(case=OuterRef("pk"))
                .order_by("-is_main", "id")
                .values("topic")
            ),
            main_topic=Subquery(
                CaseTopic.objects.filter(case=OuterRef("pk"), is_main=True).values("topic")[:1]
            ),
            co_worker_names=ArraySubquery(
                Case.co_workers.through.objects.filter(case=OuterRef("pk"))
                .order_by("id")
                .values("user__full_name")
            ),
        )
        .order_by("-opened_on", "-id")
    )
    labels = dict(Topic.choices)
    for case in cases:
        case.topic_labels = [
            (labels.get(code, code), code == case.main_topic) for code in case.topic_codes
        ]
    return cases


@dataclass(frozen=True)
class ClientFlags:
    """What must catch the eye on the client page while its sections are still closed: urgent
    visits nobody has acknowledged, and the flags the apps above register
    (``cases.extensions.register_flag``: emergency disclosures running now), by name."""

    counts: dict[str, int]

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["counts"][name]
        except KeyError:
            raise AttributeError(name) from None


def client_page_flags(*, viewer: Viewer, client: Client) -> ClientFlags:
    """One query, through the scope (someone outside it gets nothing to flag)."""

    def count(queryset: QuerySet) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.filter(client=OuterRef("pk"))
                .order_by()
                .values("client")
                .annotate(n=Count("id"))
                .values("n")
            ),
            0,
        )

    counted = {
        "urgent_visits": HomeVisit.objects.filter(is_urgent=True, acknowledged_at__isnull=True),
        **{flag.name: flag.rows() for flag in flags()},
    }
    row = (
        client_scope(viewer=viewer)
        .filter(pk=client.pk)
        .values_list(*(count(rows) for rows in counted.values()))
        .first()
    )
    return ClientFlags(counts=dict(zip(counted, row or [0] * len(counted), strict=True)))


# A screenful of looks; older ones a click away (keyset: page 50 costs what page 1 does).
ACCESS_LOG_PAGE_SIZE = 30


def client_access_log(
    *,
    viewer: Viewer,
    client: Client,
    cursor: str | None = None,
    who: str = "",
    since: date | None = None,
    until: date | None = None,
) -> KeysetPage | None:
    """ "Who looked at this client": the looks from outside the holding agency and the refused
    attempts, newest first, a page at a time, for the holding agency's supervisors only (None
    for anyone else). ``who`` narrows to a person's or an agency's name (as it was then),
    ``since``/``until`` to days, in Japan's time."""
    if not is_supervisor_of(viewer, client.agency_id):
        return None
    entries = AccessEntry.objects.filter(client=client).select_related("user")
    if who:
        entries = entries.filter(Q(user__full_name__icontains=who) | Q(agency_name__icontains=who))
    zone = timezone.get_current_timezone()
    if since:
        entries = entries.filter(at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        next_day = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
        entries = entries.filter(at__lt=next_day)
    return keyset_page(entries, ordering=["-at", "-id"], cursor=cursor, size=ACCESS_LOG_PAGE_SIZE)
