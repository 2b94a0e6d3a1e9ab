"""Suggested share texts against each network's limit (the table and the counting live in
schemas/networks.py, shared with distribution)."""

from schemas.commands import Rejected
from schemas.curation import Reason
from schemas.directory import Network
from schemas.networks import LIMITS, blank, compose, refuses_characters, weighted_length


def check_share_texts(texts: dict[Network, str], disclosure: str | None, link: str) -> None:
    """Raise `Rejected` for the first network whose post would be empty, too long, or
    refused for a character in it. `link` is a tracked link as long as the one a share
    will carry (`schemas.networks.tracked_link`): what is approved here must post there."""
    for network, text in texts.items():
        if blank(text):
            raise Rejected(Reason.SHARE_TEXT_EMPTY, f"the {network.value} text is empty")
        post = compose(text, disclosure, link)
        length = weighted_length(network, post)
        if length > LIMITS[network].max_chars:
            raise Rejected(Reason.SHARE_TEXT_TOO_LONG,
                f"{network.value}: {length} of {LIMITS[network].max_chars} characters with disclosure and link",
            )
        if refuses_characters(network, post):
            raise Rejected(Reason.SHARE_TEXT_INVALID_CHARACTERS, f"{network.value} refuses a character in the text")
