"""What the pages say about things the services name by code: the purposes, statuses,
networks, and the reasons of the services' problem documents, as sentences in the page's
language (marked with N_ here, translated when a page is rendered)."""

from services.portal.apis import Problem, Unavailable
from services.portal.i18n import N_, gettext

PURPOSES: dict[str, dict[str, str]] = {
    "receive_content": {
        "title": N_("Receive content"),
        "allows": N_("The communications team's items reach your feed, and notifications as often as your digest "
                     "setting says."),
        "not": N_("Nobody learns whether you read or share anything. Nothing is ever posted for you."),
    },
    "share_attribution": {
        "title": N_("Count my shares as mine"),
        "allows": N_("Your shares and the clicks on them are counted as yours, so that you can see your impact."),
        "not": N_("Without it your shares count only in totals, with no person's figures, not even for you. "
                  "Your manager never sees figures of yours."),
    },
    "network_reach": {
        "title": N_("Use my follower counts"),
        "allows": N_("Follower counts that a network reports for you are used to estimate the reach of your shares."),
        "not": N_("Your posts, contacts and messages are not read."),
    },
    "leaderboard": {
        "title": N_("Appear on the leaderboard"),
        "allows": N_("You appear, under a pseudonym, in a ranking that only people who opted in too can see. "
                     "It needs 'Count my shares as mine' as well."),
        "not": N_("No names are shown, and the ranking is not shown to managers or the communications team."),
    },
    "scheduled_sharing": {
        "title": N_("Scheduled sharing"),
        "allows": N_("You may pick a time for a post, and the platform posts it for you then."),
        "not": N_("Nothing is posted that you did not choose, text and time; you can cancel it until then."),
    },
}

STATUSES = {
    None: N_("Not answered"),
    "given": N_("Given"),
    "renewed_given": N_("Given (renewed)"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "revoked": N_("Ended when you left"),
    "expired": N_("Expired"),
    "renewal_requested": N_("Renewal needed"),
}

SHARE_STATUSES = {
    "created": N_("Ready for you to post"),
    "scheduled": N_("Scheduled"),
    "publish_requested": N_("Being posted"),
    "published": N_("Posted"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}

ITEM_STATUSES = {
    "draft": N_("Draft"),
    "in_review": N_("In review"),
    "approved": N_("Approved"),
    "scheduled": N_("Scheduled"),
    "published": N_("Published"),
    "expired": N_("Expired"),
    "retracted": N_("Retracted"),
}

NETWORKS = {"linkedin": "LinkedIn", "x": "X", "xing": "XING", "facebook": "Facebook", "instagram": "Instagram",
            "mastodon": "Mastodon", "bluesky": "Bluesky"}

# What a refusal means to the person who caused it. Reasons from the README's table and
# the HTTP kit (services/runtime/api/problems.py).
REASONS: dict[str, str] = {
    # consent
    "not_in_directory": N_("You are not in the directory yet, so no consent can be recorded for you."),
    "unknown_policy_version": N_("This version of the policy does not exist (any more)."),
    "outdated_policy_version": N_("A newer version of this policy has been published. Please read it and "
                                  "answer again."),
    "policy_version_not_newer": N_("A policy version must be higher than the current one."),
    "actor_not_subject": N_("Only the person themself can do this."),
    # curation
    "invalid_url": N_("This is not a web address the platform accepts (http or https, with a host)."),
    "too_long": N_("A field is longer than allowed."),
    "missing_field": N_("A required field is empty."),
    "share_text_too_long": N_("A suggested text, with the disclosure and the link, is over the network's limit."),
    "share_text_empty": N_("A suggested text is empty."),
    "share_text_invalid_characters": N_("A suggested text holds a character the network refuses."),
    "invalid_period": N_("The period is not valid: the end must come after the start (at most 366 days)."),
    "already_expired": N_("The item's expiry has passed; it cannot be published."),
    "transition_not_allowed": N_("This step is not possible in the item's current status."),
    "four_eyes_violation": N_("You drafted, edited or submitted this item, so someone else must approve it "
                              "(four eyes)."),
    "source_url_locked": N_("The link of a published item cannot change: posts point to it."),
    "unknown_item": N_("There is no such item."),
    "item_exists": N_("An item with this id exists already."),
    "unknown_campaign": N_("There is no such campaign."),
    "campaign_exists": N_("A campaign with this id exists already."),
    "source_exists": N_("A feed source with this id exists already."),
    "unknown_source": N_("There is no such feed source."),
    "source_removed": N_("This feed source was removed."),
    "item_changed": N_("Someone changed the item since you opened it. Please look at it again."),
    # distribution
    "item_not_in_feed": N_("This item is not in your feed (any more)."),
    "item_not_active": N_("This item was retracted or has expired."),
    "text_too_long": N_("Your post, with the disclosure and the link, is over the network's limit."),
    "text_not_editable": N_("This item's text may not be changed."),
    "text_empty": N_("Write something, or leave the text as it is suggested."),
    "scheduled_sharing_not_consented": N_("Scheduling a post needs your consent to scheduled sharing."),
    "scheduled_in_the_past": N_("The time you chose has passed; pick a time in the future."),
    "text_invalid_characters": N_("Your post holds a character the network refuses."),
    "unknown_share": N_("There is no such share of yours."),
    "share_not_scheduled": N_("This share is not scheduled any more, so it cannot be cancelled."),
    # metrics
    "attribution_not_consented": N_("Your impact is shown only while you allow your shares to be counted as "
                                    "yours."),
    "leaderboard_not_consented": N_("The leaderboard is shown only to people who opted in to it."),
    "unknown_currency": N_("There are no rates in this currency."),
    # the HTTP kit
    "not_permitted": N_("Your roles do not allow this."),
    "invalid_request": N_("Some of what you entered is not valid."),
    "invalid_json": N_("Some of what you entered is not valid."),
    "already_applied": N_("This was done already."),
    "too_many_requests": N_("Too many requests at once. Please try again in a moment."),
    "body_too_large": N_("What you entered is too long."),
}


def problem_sentence(problem: Problem) -> str:
    """A sentence for the person, in the page's language."""
    known = REASONS.get(problem.reason)
    if known:
        return gettext(known)
    return gettext("The platform refused this (%(reason)s).", reason=problem.reason)


def unavailable_sentence(error: Unavailable) -> str:
    return gettext("The %(service)s service is not answering right now. Please try again in a moment.",
                   service=error.service)
