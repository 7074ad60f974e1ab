"""Every sentence of a lifecycle email that says what happens next, and what makes it happen.

Templates say these only through `promise(key)`, so a test (tests/unit/test_emails_tell_the_truth
.py) can check that each is backed: the event named is a published contract, and the function
named exists and handles that event. A sentence that is not backed is not written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Promise:
    text: str
    event: str  # the event that carries it out, from shared/contracts
    doer: str  # "module:function" that acts on (or publishes) the event


PROMISES: dict[str, Promise] = {
    "introduced_on_accept": Promise(
        "If you accept, we introduce you to each other by email and only then share your "
        "email addresses.",
        "MatchStarted",
        "services.notifications.domain.lifecycle:plan_emails",
    ),
    "reminded_once": Promise(
        "If you have not answered halfway to the deadline, we remind you once.",
        "RequestReminded",
        "services.notifications.domain.lifecycle:plan_emails",
    ),
    "rematched_on_decline": Promise(
        'If you say "Not now", or do not answer in time, we suggest another mentor to {name} '
        "and do not suggest you again for this goal.",
        "RequestDeclined",
        "services.matching.service_layer.lifecycle:request_closed",
    ),
    "fit_check_on": Promise(
        "On {date} we ask you both, in one click, whether it is going well.",
        "FitCheckRequested",
        "services.notifications.domain.lifecycle:plan_emails",
    ),
    "end_rematches_mentee": Promise(
        "If it does not work out, you can end the relationship at any time with the link "
        "below; we then suggest other mentors for your goal.",
        "MatchEnded",
        "services.matching.service_layer.lifecycle:relationship_ended",
    ),
    "end_frees_seat": Promise(
        "If it does not work out, you can end the relationship at any time with the link "
        "below; your seat is then free again.",
        "MatchEnded",
        "services.profile.service_layer.relationships:end_relationship",
    ),
    "reason_shapes_next": Promise(
        "If you tell us why it ended, your next suggestions take it into account, and the "
        "email that brings them says how (with a link to undo it).",
        "PreferencesAdjusted",
        "services.profile.service_layer.relationships:end_relationship",
    ),
    "fit_bad_leads_to_end": Promise(
        '"Not a good fit" takes you to a short form to end the relationship.',
        "MatchEnded",
        "services.profile.service_layer.relationships:end_relationship",
    ),
    "ended_rematches_mentee": Promise(
        "We suggest other mentors for your goal.",
        "MatchEnded",
        "services.matching.service_layer.lifecycle:relationship_ended",
    ),
    "ended_frees_seat": Promise(
        "Your seat is free again, so we may suggest you to other mentees.",
        "MatchEnded",
        "services.profile.service_layer.relationships:end_relationship",
    ),
}


def promise(key: str, **values: str) -> str:
    return PROMISES[key].text.format(**values)
