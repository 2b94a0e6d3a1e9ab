"""The audience rule, restated independently of distribution's SQL, for tests that compute
who must have an item in their feed."""

from ops.scenario.cast import Person
from schemas.curation import ItemContent


def reaches(person: Person, content: ItemContent, receives_content: bool) -> bool:
    """Consent to receive content, targeting (roles), language, interests."""
    audience = content.audience
    return (receives_content
            and (not audience.roles or person.role in audience.roles)
            and (not person.languages or content.language in person.languages)
            and (not person.interests or not content.topics or bool(set(person.interests) & set(content.topics))))
