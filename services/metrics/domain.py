"""Pure rules of counting: keep-the-highest merging of cumulative counters, the EMV and
engagement-rate formulas, and k-anonymity suppression. No I/O."""

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

COUNTERS = ("impressions", "reactions", "comments", "reshares")


@dataclass(frozen=True)
class Rate:
    cpm: float  # per thousand impressions
    cpc: float  # per click
    cpe: float  # per engagement: a reaction, comment or reshare


@dataclass(frozen=True)
class RateCard:
    """The rates of one currency, per network, as configured in emv_rates.toml."""

    currency: str
    rates: Mapping[str, Rate]

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "formula": EMV_FORMULA,
                "rates": {n: vars(r) for n, r in sorted(self.rates.items())}}


EMV_FORMULA = "impressions / 1000 × cpm + clicks × cpc + (reactions + comments + reshares) × cpe, per network"


def load_rates(path: Path, currency: str | None = None) -> RateCard:
    """The rate card for `currency` (the file's default if None); KeyError if it has none."""
    config = tomllib.loads(path.read_text())
    chosen = currency or config["default_currency"]
    return RateCard(chosen, {network: Rate(**rate) for network, rate in config[chosen].items()})


def currencies(path: Path) -> set[str]:
    return {key for key, value in tomllib.loads(path.read_text()).items() if isinstance(value, dict)}


@dataclass
class Totals:
    shares: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    impressions: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    potential_reach: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Totals":
        return cls(**{f.name: int(row[f.name] or 0) for f in fields(cls)})

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def engagements(self) -> int:
        return self.reactions + self.comments + self.reshares


def engagement_rate(t: Totals) -> float:
    """Interactions per impression; clicks count as interactions. 0 without impressions."""
    return round((t.engagements + t.clicks) / t.impressions, 6) if t.impressions else 0.0


def emv(per_network: Mapping[str, Totals], card: RateCard) -> float:
    """Earned media value: each network's figures at that network's rates (0 without rates)."""
    value = 0.0
    for network, t in per_network.items():
        rate = card.rates.get(network)
        if rate is not None:
            value += t.impressions / 1000 * rate.cpm + t.clicks * rate.cpc + t.engagements * rate.cpe
    return round(value, 2)


def keep_highest(observations: Iterable[tuple[str, Sequence[int]]]) -> dict[str, list[int]]:
    """Merge cumulative counters per share: the highest of each counter wins, so a repeated
    or late (lower) report changes nothing. Counters are in COUNTERS order."""
    merged: dict[str, list[int]] = {}
    for share_id, counters in observations:
        known = merged.get(share_id)
        merged[share_id] = list(counters) if known is None else [max(a, b) for a, b in zip(known, counters)]
    return merged


def suppress_small_groups(groups: Iterable[Mapping[str, Any]], k: int) -> list[Mapping[str, Any]]:
    """Only groups with at least k distinct contributors; the others vanish without a trace
    (no placeholder, no count of what was left out), so a small group's presence is not told."""
    return [g for g in groups if g["contributors"] >= k]
