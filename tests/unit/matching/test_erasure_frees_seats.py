"""A mentee's erasure and the seat they took: the result must not depend on which of the two
matching sees first.

The chaos run of 6 Dec (issue 30) found this: `mentee-2129` accepted `mentor-111` and was
erased 18 s later. The accept is on the feedback topic, the erasure on the profiles topic, and
after a broker SIGKILL matching consumed the erasure first. It then dropped the accept as an
event from before its person's erasure, so the seat was never taken, while in the usual order
the seat is taken and never given back (`mentor_load.accepted` stays raised). The run's truth
had the seat taken, and three mentees had `mentor-111` proposed where the truth had none.

The seat of an erased mentee is free in both orders (issue 28: "the erasure of either person
frees seats"); today only the erasure-first order gets there.
"""

from __future__ import annotations

import pytest

from shared.contracts.feedback import MatchAccepted
from tests.unit.builders import mentee, mentor
from tests.unit.matching.test_erased_stay_erased import deleted
from tests.unit.matching.test_handlers import feedback, goal_set, profile, proposed, run

PEOPLE = [
    profile(mentor("m1", capacity=1)),
    profile(mentee("x1")),
    goal_set("x1"),
    profile(mentee("x2")),
    goal_set("x2"),
]
ACCEPT = feedback(MatchAccepted, "x1", "m1")


@pytest.mark.parametrize(
    "order",
    [
        pytest.param([deleted("x1"), ACCEPT], id="erasure-first"),
        pytest.param(
            [ACCEPT, deleted("x1")],
            id="accept-first",
            marks=pytest.mark.xfail(
                strict=True,
                reason="issue 28 (lc-matching): a mentee's erasure does not free the seat their"
                " accept took (mentor_load.accepted stays raised)",
            ),
        ),
    ],
)
def test_an_erased_mentees_seat_is_free_whichever_event_matching_sees_first(
    order: list[object],
) -> None:
    cluster = run(*PEOPLE, *order)
    assert proposed(cluster, "x2")[-1] == ("m1",)
