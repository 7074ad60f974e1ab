"""Every sentence of a lifecycle email that says what happens next, and what makes it happen.

Templates say these only through `promise(key)`, so a test (tests/unit/
test_emails_tell_the_truth.py) can check that each is backed: every event or link named is in
shared/, and every service named acts on it (publishes, handles or serves it). A sentence that
is not backed is not written.
"""

from __future__ import annotations

from dataclasses import dataclass

# (an event in shared/contracts or a LinkAction member, the service that publishes, handles or
# writes it)
Backing = tuple[str, str]


@dataclass(frozen=True)
class Promise:
    text: str
    backed_by: tuple[Backing, ...]


PROMISES: dict[str, Promise] = {
    "introduced_on_accept": Promise(
        "If you accept, we introduce you to each other by email and only then share your "
        "email addresses.",
        (
            ("MENTOR_ACCEPT", "profile"),
            ("MatchStarted", "profile"),
            ("MatchStarted", "notifications"),
        ),
    ),
    "reminded_once": Promise(
        "If you have not answered halfway to the deadline, we remind you once.",
        (("RequestReminded", "profile"), ("RequestReminded", "notifications")),
    ),
    "rematched_on_decline": Promise(
        'If you say "Not now", or do not answer in time, we suggest another mentor to {name} '
        "and do not suggest you again for this goal.",
        (
            ("MENTOR_DECLINE", "profile"),
            ("RequestExpired", "profile"),
            ("RequestDeclined", "matching"),
            ("RequestExpired", "matching"),
        ),
    ),
    "fit_check_on": Promise(
        "On {date} we ask you both, in one click, whether it is going well.",
        (("FitCheckRequested", "profile"), ("FitCheckRequested", "notifications")),
    ),
    "end_rematches_mentee": Promise(
        "If it does not work out, you can end the relationship at any time with the link "
        "below; we then suggest other mentors for your goal.",
        (("END", "profile"), ("MatchEnded", "profile"), ("MatchEnded", "matching")),
    ),
    "end_frees_seat": Promise(
        "If it does not work out, you can end the relationship at any time with the link "
        "below; your seat is then free again.",
        (("END", "profile"), ("MatchEnded", "profile"), ("MatchEnded", "matching")),
    ),
    "reason_shapes_next": Promise(
        "If you end it because of the mentor's style, availability or expertise, or the "
        "chemistry between you, say so: your next suggestions take it into account, and the "
        "email that brings them says how (with a link to undo it).",
        (
            ("PreferencesAdjusted", "profile"),
            ("PreferencesAdjusted", "matching"),
            ("UNDO_ADJUSTMENT", "notifications"),
        ),
    ),
    "fit_bad_leads_to_end": Promise(
        '"Not a good fit" takes you to a short form to end the relationship.',
        (("FIT_BAD", "profile"), ("MatchEnded", "profile")),
    ),
    "ended_rematches_mentee": Promise(
        "We suggest other mentors for your goal.",
        (("MatchEnded", "matching"),),
    ),
    "ended_frees_seat": Promise(
        "Your seat is free again, so we may suggest you to other mentees.",
        (("MatchEnded", "profile"), ("MatchEnded", "matching")),
    ),
}


def promise(key: str, **values: str) -> str:
    return PROMISES[key].text.format(**values)
