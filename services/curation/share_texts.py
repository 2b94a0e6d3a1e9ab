"""Suggested share texts against each network's limit (the table and the counting live in
schemas/networks.py, shared with distribution)."""

from schemas.commands import Rejected
from schemas.curation import Reason
from schemas.directory import Network
from schemas.networks import LIMITS, compose, weighted_length


def check_share_texts(texts: dict[Network, str], disclosure: str | None, link: str) -> None:
    """Raise `Rejected` for the first network whose post would be empty or too long."""
    for network, text in texts.items():
        if not text.strip():
            raise Rejected(Reason.SHARE_TEXT_EMPTY, f"the {network.value} text is empty")
        length = weighted_length(network, compose(text, disclosure, link))
        if length > LIMITS[network].max_chars:
            raise Rejected(Reason.SHARE_TEXT_TOO_LONG,
                f"{network.value}: {length} of {LIMITS[network].max_chars} characters with disclosure and link",
            )
