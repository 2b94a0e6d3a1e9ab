"""Suggested share texts against each network's limit (the table and the counting live in
schemas/networks.py, shared with distribution)."""

from schemas.directory import Network
from schemas.networks import LIMITS, compose, refuses_characters, weighted_length
from services.runtime.rejections import Rejected


def check_share_texts(texts: dict[Network, str], disclosure: str | None, link: str) -> None:
    """Raise `Rejected` for the first network whose post would be empty, too long, or
    refused for a character in it. `link` is a tracked link as long as the one a share
    will carry (`schemas.networks.tracked_link`): what is approved here must post there."""
    for network, text in texts.items():
        if not text.strip():
            raise Rejected("share_text_empty", f"the {network.value} text is empty")
        post = compose(text, disclosure, link)
        length = weighted_length(network, post)
        if length > LIMITS[network].max_chars:
            raise Rejected(
                "share_text_too_long",
                f"{network.value}: {length} of {LIMITS[network].max_chars} characters with disclosure and link",
            )
        if refuses_characters(network, post):
            raise Rejected("share_text_invalid_characters", f"{network.value} refuses a character in the text")
