"""A mentee's erasure and the seat they took: the result must not depend on which of the events
matching sees first.

The chaos run of 6 Dec (issue 30) found this: `mentee-2129` accepted `mentor-111` and was
erased 18 s later. The accept is on the feedback topic, the erasure on the profiles topic, and
after a broker SIGKILL matching consumed the erasure first. It then dropped the accept as an
event from before its person's erasure, so the seat was never taken, while in the usual order
the seat was taken and never given back (matching counted seats itself).

Seats are now counted in one place, the profile service, and reach matching in the mentor's
ProfileUpdated (`seats_taken`), ordered by the profile's version (issue 28). An old accept
record only keeps the pair apart. So the seat of an erased mentee is free in every order.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from shared.contracts.feedback import MatchAccepted
from tests.unit.builders import mentee, mentor
from tests.unit.matching.test_erased_stay_erased import deleted
from tests.unit.matching.test_handlers import feedback, goal_set, profile, proposed, run
from tests.unit.matching.test_lifecycle import requested

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
        pytest.param([ACCEPT, deleted("x1")], id="accept-first"),
    ],
)
def test_an_erased_mentees_seat_is_free_whichever_event_matching_sees_first(
    order: list[object],
) -> None:
    cluster = run(*PEOPLE, *order)
    assert proposed(cluster, "x2")[-1] == ("m1",)


# The profile service's events when x1 asks m1 and is then erased: the request, the mentor with
# the seat held (version 2), the erasure, the mentor with the seat free again (version 3).
LIFECYCLE = {
    "request": requested("x1", "m1"),
    "held": profile(mentor("m1", version=2, capacity=1, seats_taken=1)),
    "erasure": deleted("x1"),
    "freed": profile(mentor("m1", version=3, capacity=1, seats_taken=0)),
}


@pytest.mark.parametrize(
    "names", [pytest.param(p, id="-".join(p)) for p in itertools.permutations(LIFECYCLE)]
)
def test_a_seat_held_by_an_erased_mentee_is_free_in_any_order(names: tuple[str, ...]) -> None:
    events: list[Any] = [LIFECYCLE[name] for name in names]
    cluster = run(*PEOPLE, *events)
    assert proposed(cluster, "x2")[-1] == ("m1",)
