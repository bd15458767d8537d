"""The cancellation policy (BUSINESS_RULES.md "Cancellation"), as data.

Tiers of "cancelled at least N hours before the pickup → this percent of what was paid comes
back". The pickup counts from midnight of its date in New York (the earliest a morning window
can start). A customer (or a guest with the token) may cancel only while a tier applies; staff
may always cancel, and a staff cancellation of a paid booking opens a refund request instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..business_time import local_midnight
from ..service_registry import find_service
from ..snapshots import Snapshot
from .models import CancellationTier

#: Customers reschedule their own booking until this long before the pickup (BUSINESS_RULES).
RESCHEDULE_NOTICE = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Tier:
    hours_before: int
    refund_percent: int


@dataclass(frozen=True)
class Policy:
    """The tiers, the longest notice first."""

    tiers: tuple[Tier, ...]

    def refund_percent(self, pickup_date: dt.date, now: dt.datetime) -> int | None:
        """The percent a customer's cancellation at ``now`` earns; ``None``: too late online."""
        left = local_midnight(pickup_date) - now
        for tier in self.tiers:
            if left >= dt.timedelta(hours=tier.hours_before):
                return tier.refund_percent
        return None

    @property
    def closes_hours_before(self) -> int | None:
        """Hours before the pickup when customers can no longer cancel online."""
        return min((t.hours_before for t in self.tiers), default=None)

    def describe(self, pickup_date: dt.date | None = None) -> dict[str, Any]:
        """The policy as the API shows it; with a date, when each tier ends for that pickup."""
        tiers = []
        for tier in self.tiers:
            shown: dict[str, Any] = {
                "hours_before": tier.hours_before,
                "refund_percent": tier.refund_percent,
            }
            if pickup_date is not None:
                until = local_midnight(pickup_date) - dt.timedelta(hours=tier.hours_before)
                shown["until"] = until.isoformat()
            tiers.append(shown)
        closes = self.closes_hours_before
        text = "; ".join(
            f"{t.refund_percent}% back when cancelled {t.hours_before} hours or more before pickup"
            for t in self.tiers
        )
        if closes is not None:
            text += f". Inside {closes} hours, call us: online cancellation is closed."
        return {"tiers": tiers, "summary": text or "Call us to cancel."}


def cancellation_terms(ctx: Any, pickup_date: dt.date | None) -> dict[str, Any]:
    """The cancellation policy as a quote or booking shows it, for a pickup on ``pickup_date``.

    For plugins (``totetaxi_core.plugin_api``): ``{"tiers": [{hours_before, refund_percent,
    until}], "summary"}``.
    """
    return current_policy(ctx).describe(pickup_date)


def policy_of(booking: Any, ctx: Any) -> Policy:
    """The policy ``booking`` was sold under (kept in its quote), else the current one."""
    terms = (booking.quote or {}).get("cancellation_policy") or {}
    if "tiers" not in terms:
        return current_policy(ctx)
    return Policy(
        tuple(
            Tier(int(t["hours_before"]), int(t["refund_percent"]))
            for t in sorted(terms["tiers"], key=lambda t: -int(t["hours_before"]))
        )
    )


#: The service holding the app's :class:`Snapshot` of the policy.
POLICY_SERVICE = "bookings.cancellation_policy"


def current_policy(ctx: Any) -> Policy:
    """The policy in force (no tiers: customers cannot cancel online at all), from memory."""
    snapshot: Snapshot[Policy] = find_service(ctx, POLICY_SERVICE)
    return snapshot.get(ctx)


def policy_snapshot() -> Snapshot[Policy]:
    """A new snapshot of the policy, for the app's services (one per app)."""
    return Snapshot(read_policy)


def read_policy(dbsession: Session) -> Policy:
    """The policy as stored."""
    rows = dbsession.scalars(
        select(CancellationTier).order_by(CancellationTier.hours_before.desc())
    ).all()
    return Policy(tuple(Tier(r.hours_before, r.refund_percent) for r in rows))


def parse_tiers(raw: list[tuple[str, str]]) -> tuple[list[Tier], dict[str, str]]:
    """``(tiers, errors by field)`` from the console's rows of (hours, percent) text."""
    tiers: list[Tier] = []
    errors: dict[str, str] = {}
    for index, (hours, percent) in enumerate(raw):
        if not hours.strip() and not percent.strip():
            continue  # an empty row of the form
        if not hours.strip().isdigit() or not 0 <= int(hours) <= 24 * 365:
            errors[f"hours_{index}"] = "Hours before pickup: a whole number from 0 to 8760."
            continue
        if not percent.strip().isdigit() or not 0 <= int(percent) <= 100:
            errors[f"percent_{index}"] = "Refund: a whole percent from 0 to 100."
            continue
        tiers.append(Tier(int(hours), int(percent)))
    if not tiers and not errors:
        # To stop online cancellation, give one tier far out with 0%: an empty form is a slip.
        errors["tiers"] = "Give at least one tier."
    hours_seen = [t.hours_before for t in tiers]
    if len(set(hours_seen)) != len(hours_seen):
        errors["tiers"] = "Two tiers have the same hours before pickup."
    ordered = sorted(tiers, key=lambda t: -t.hours_before)
    if any(a.refund_percent < b.refund_percent for a, b in itertools.pairwise(ordered)):
        errors["tiers"] = "A later cancellation cannot get more back than an earlier one."
    return ordered, errors


def replace_policy(ctx: Any, tiers: list[Tier]) -> None:
    """Store ``tiers`` as the whole policy (every process sees it within a second of commit)."""
    snapshot: Snapshot[Policy] = find_service(ctx, POLICY_SERVICE)
    snapshot.changed(ctx)
    dbsession = ctx.dbsession
    dbsession.execute(delete(CancellationTier))
    dbsession.add_all(
        CancellationTier(hours_before=t.hours_before, refund_percent=t.refund_percent)
        for t in tiers
    )
    dbsession.flush()
