"""What metrics does with what it hears and with what falls due.

Every handler is `(uow, message)`, listed in a table by message type (`commands`,
`consent_events`, `curation_events`); app.py subscribes the tables. Shares, clicks and
connectors' observations are counted a batch at a time (`count(uow, counted)`). Schedule
jobs are `(uow, now) -> how many handled`. Rules come from `domain`, writes from `store`,
reads from `queries`. Reports are read over HTTP (api.py), not handled here.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Union

from pydantic import Field

from schemas import consent, curation, distribution, engagement
from schemas import directory as d
from schemas.catalog import CONTRACTS
from schemas.metrics import Figures, MetricSnapshot, Snapshot, SnapshotScope
from services.metrics import domain, queries, reports, store
from services.metrics.config import MetricsSettings, MetricsTopics
from services.metrics.domain import RateCards
from services.runtime import directory
from services.runtime.handling import Table
from services.runtime.unit_of_work import UnitOfWork

# Both counted topics are decoded with the union of their types: every type on them
# decodes (what is not counted is skipped by type), and an unknown one is dead-lettered.
COUNTED: Any = Annotated[Union[tuple(CONTRACTS[distribution.EVENTS_TOPIC] + CONTRACTS[engagement.TOPIC])],  # noqa: UP007
                         Field(discriminator="type")]
_SNAPSHOTS_PER_PASS = 500
# Unique visitors are counted per share and UTC day (visitor hashes change daily): a day's
# hashes are kept while its clicks may still come in, for a consumer that lagged a day behind,
# and are then forgotten (store.forget_visitors).
VISITOR_HASH_DAYS = 2
_VISITORS_PER_PASS = 5000


class MetricsHandlers:
    """Every handler of the metrics service, with what they share: settings, topics, rate
    cards, clock."""

    def __init__(self, settings: MetricsSettings, topics: MetricsTopics, rate_cards: RateCards,
                 clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.topics = topics
        self.rate_cards = rate_cards
        self.clock = clock
        self._closed_through: date | None = None  # the last week over that snapshots were marked due for
        self.share_weeks = store.ShareWeeks()  # what marking shares due needs of them, in memory
        # Both of metrics' commands ask for a report, which is read over HTTP now: app.py
        # refuses them on Kafka (`sign_in_required`). None is left to handle.
        self.commands: Table = {}
        self.directory: Table = dict.fromkeys((d.PersonJoined, d.PersonChanged, d.PersonLeft), self.apply_directory)
        self.consent_events: Table = {consent.AdvocateErased: self.erase,
                                      **dict.fromkeys(consent.RECORD_EVENTS, self.apply_consent)}
        self.curation_events: Table = {
            curation.ItemPublished: self.save_item, curation.ItemUpdated: self.save_item,
            curation.CampaignCreated: self.save_campaign, curation.CampaignChanged: self.save_campaign,
        }

    # --- what metrics keeps of other services' facts ---------------------------------------

    async def apply_directory(self, uow: UnitOfWork, event: d.DirectoryEvent) -> None:
        """The directory projection, but nobody erased comes back through it (a late profile)."""
        if not await store.erased(uow.conn, event.data.advocate_id):
            await directory.apply(uow, event)

    async def apply_consent(self, uow: UnitOfWork, event: consent.RecordEvent) -> None:
        """Only the purposes metrics' figures depend on; a withdrawal takes their figures
        along; nobody erased comes back through a late record."""
        record = event.data
        if record.purpose.value in store.PURPOSES and not await store.erased(uow.conn, record.advocate_id):
            await store.set_consent(uow.conn, record.advocate_id, record.purpose.value, record.valid,
                                    event.consentsequence)

    async def erase(self, uow: UnitOfWork, event: consent.AdvocateErased) -> None:
        await directory.forget(uow, event.data.advocate_id, event.data.erased_at)
        await store.erase(uow.conn, event.data.advocate_id)

    async def save_item(self, uow: UnitOfWork, event: curation.ItemPublished | curation.ItemUpdated) -> None:
        item = event.data
        await store.save_item(uow.conn, item.item_id, item.content.campaign_id, item.content.title,
                              list(item.content.topics))

    async def save_campaign(self, uow: UnitOfWork, event: curation.CampaignCreated | curation.CampaignChanged
                            ) -> None:
        c = event.data
        await store.save_campaign(uow.conn, c.campaign_id, c.name, c.starts_on, c.ends_on)

    # --- counting --------------------------------------------------------------------------

    async def count(self, uow: UnitOfWork, counted: store.Counted) -> None:
        """A batch of shares, cancellations, clicks, observations and follower counts, not
        seen before, merged in memory and packed (`store.Counting`, while the batch was
        decoded): one statement per table."""
        tally = counted.tally
        await store.add_shares(uow.conn, counted.shares, self.share_weeks)
        await store.cancel_shares(uow.conn, tally.cancelled)
        await store.add_clicks(uow.conn, counted.clicks)
        await store.keep_highest_engagement(uow.conn, counted.observations)
        await store.set_followers(uow.conn, counted.followers)
        await store.mark_due(uow.conn, tally.touched_shares, self.share_weeks)

    # --- schedule jobs ---------------------------------------------------------------------

    async def forget_visitors(self, uow: UnitOfWork, now: datetime) -> int:
        """Visitor hashes of days over for VISITOR_HASH_DAYS replaced by ids that link to nothing."""
        await store.forget_contributor_salts(uow.conn, (now - timedelta(days=VISITOR_HASH_DAYS)).date())
        return await store.forget_visitors(uow.conn, (now - timedelta(days=VISITOR_HASH_DAYS)).date(),
                                           _VISITORS_PER_PASS)

    async def release_due_week(self, uow: UnitOfWork, now: datetime) -> int:
        """One week that is over and changed since it was last released (or never was, or
        with another k): its cells decided and kept, so reports read them instead of deciding
        the week again (ADR 0023). A week is released again at most every `release_seconds`;
        reports tell a week that changed since from its release for twice that (then, if the
        job is behind, they decide it). Returns 1 if a week was released."""
        k = self.settings.k_anonymity
        due = await store.claim_due_week(uow.conn, domain.week_of(domain.last_closed_day(now.date())), k,
                                         self.settings.release_seconds)
        if due is None:
            return 0
        week, marks = due
        release = await reports.decide(uow.conn, [week], k, cached=False)
        await store.save_release(uow.conn, week, k, marks, release.rows(), 2 * self.settings.release_seconds)
        return 1

    async def publish_due_snapshots(self, uow: UnitOfWork, now: datetime) -> int:
        """A snapshot of each item and campaign whose figures changed since its last one,
        and of those with shares in a week that just ended: figures of whole weeks that are
        over, summed over the weeks in which reports may show them (ADR 0020), never about
        a person. One whose figures no week may show is not published. Each mark is claimed
        once."""
        closed = domain.last_closed_day(now.date())
        if closed != self._closed_through:  # a week ended (or this process started): its items are due
            await store.mark_due_days(uow.conn, closed - timedelta(days=6), closed)
            self._closed_through = closed
        claimed = await store.claim_due_snapshots(uow.conn, _SNAPSHOTS_PER_PASS)
        card = self.rate_cards.card()
        k = self.settings.k_anonymity
        for scope in SnapshotScope:
            ids = [id_ for kind, id_ in claimed if kind == scope.value]
            weeks = await queries.weeks_with_shares(uow.conn, scope.value, ids, closed) if ids else []
            if not weeks:
                continue
            release = await reports.released(uow.conn, weeks[0], weeks[-1] + timedelta(days=6), k)
            shown = {key: release.over_shown_weeks(
                domain.Cell("item", domain.EVERY_CAMPAIGN, key) if scope is SnapshotScope.ITEM
                else domain.Cell(domain.TOTAL, key, domain.TOTAL_KEY)) for key in sorted(ids)}
            await uow.emit_many(self.topics.events, MetricSnapshot, [
                (key, Snapshot(scope=scope, id=key, figures=Figures(**domain.figures(networks, card)), as_of=now))
                for key, networks in shown.items() if networks is not None])
        return len(claimed)
