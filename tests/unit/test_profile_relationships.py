"""The relationship state machine, the seat rule and the learning rule (domain, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.profile.domain import learning
from services.profile.domain import relationships as rel
from services.profile.domain.relationships import Answer, Ending, LifecycleTerms, Refusal
from shared.contracts.goals import GoalSetPayload
from shared.contracts.types import MentoringStyle
from tests.unit.builders import goal

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TERMS = LifecycleTerms(timedelta(days=5), timedelta(days=14), 2)


def requested() -> rel.Relationship:
    return rel.request("acme", "u-ada", "u-grace", "g1", uuid4(), T0, TERMS)


def facts(**overrides: object) -> rel.Requester:
    fields: dict[str, object] = {
        "mentor_capacity": 2,
        "mentor_open_to_mentees": True,
        "mentor_reachable": True,
        "seats_taken": 0,
        "mentee_open_requests": 0,
        "open_with_this_mentor": False,
        "active_for_goal": False,
    }
    return rel.Requester(**(fields | overrides))  # type: ignore[arg-type]


def test_a_request_holds_a_seat_until_the_deadline_and_reminds_half_way() -> None:
    r = requested()
    assert (r.state, r.version, r.deadline) == ("requested", 1, T0 + timedelta(days=5))
    assert r.remind_at == T0 + timedelta(days=2, hours=12)
    assert rel.remind(r, r.remind_at - timedelta(seconds=1)) is None
    reminded = rel.remind(r, r.remind_at)
    assert reminded is not None and reminded.version == 2
    assert rel.remind(reminded, r.remind_at + timedelta(hours=1)) is None  # once
    assert rel.expire(reminded, r.deadline - timedelta(seconds=1)) is None
    expired = rel.expire(reminded, r.deadline)
    assert expired is not None and (expired.state, expired.version) == ("expired", 3)


def test_the_seat_rule_and_the_request_limit() -> None:
    assert rel.refusal(facts(), TERMS) is None
    assert rel.refusal(facts(seats_taken=2), TERMS) is Refusal.NO_SEAT
    assert rel.refusal(facts(mentor_open_to_mentees=False), TERMS) is Refusal.NO_SEAT
    assert rel.refusal(facts(mentor_reachable=False), TERMS) is Refusal.UNREACHABLE
    assert rel.refusal(facts(mentee_open_requests=2), TERMS) is Refusal.LIMIT_REACHED
    assert rel.refusal(facts(open_with_this_mentor=True), TERMS) is Refusal.ALREADY_ASKED
    assert rel.refusal(facts(active_for_goal=True), TERMS) is Refusal.HAS_MENTOR
    assert rel.has_free_seat(3, 2) and not rel.has_free_seat(3, 3)


def test_the_mentor_accepts_in_time_once_and_too_late_expires_instead() -> None:
    r = requested()
    started = rel.accept(r, T0 + timedelta(days=1), TERMS)
    assert started.answer is Answer.DONE and started.after.state == "active"
    assert started.after.fit_check_at == T0 + timedelta(days=15)
    again = rel.accept(started.after, T0 + timedelta(days=2), TERMS)
    assert again.answer is Answer.REPEATED and not again.changed

    late = rel.accept(r, r.deadline, TERMS)
    assert late.answer is Answer.TOO_LATE and late.expired and late.after.state == "expired"
    after_expiry = rel.accept(late.after, r.deadline + timedelta(days=1), TERMS)
    assert after_expiry.answer is Answer.TOO_LATE and not after_expiry.changed
    assert rel.decline(started.after, T0).answer is Answer.CLOSED


def test_ending_twice_ends_once_and_only_the_system_withdraws_a_request() -> None:
    active = rel.accept(requested(), T0, TERMS).after
    first = rel.end(active, Ending("mentee", "style", 2, True), T0 + timedelta(days=20))
    assert first.answer is Answer.DONE and first.after.state == "ended"
    assert (first.after.reason, first.after.rating, first.after.never_again) == ("style", 2, True)
    second = rel.end(first.after, Ending("mentor", "other"), T0 + timedelta(days=20))
    assert second.answer is Answer.REPEATED and second.after.ended_by == "mentee"

    assert rel.end(requested(), Ending("mentee"), T0).answer is Answer.CLOSED
    assert rel.end(requested(), Ending("system"), T0).after.state == "ended"


def test_the_fit_check_comes_once_after_the_start() -> None:
    active = rel.accept(requested(), T0, TERMS).after
    assert rel.check_fit(active, T0 + timedelta(days=13)) is None
    checked = rel.check_fit(active, T0 + timedelta(days=14))
    assert checked is not None and checked.version == active.version + 1
    assert rel.check_fit(checked, T0 + timedelta(days=30)) is None
    noted = rel.answer_fit(checked, "u-ada", "good")
    assert noted.answer is Answer.DONE and noted.after.version == checked.version
    assert rel.answer_fit(noted.after, "u-ada", "good").answer is Answer.REPEATED
    assert rel.answer_fit(noted.after, "u-stranger", "good").answer is Answer.CLOSED


def a_goal(**overrides: object) -> GoalSetPayload:
    return goal("u-ada", goal_id="g1", **overrides)


COACH = [MentoringStyle.COACHING, MentoringStyle.CHALLENGING]


def test_style_avoids_the_mentors_styles_and_raises_the_style_weight() -> None:
    learned = learning.learn(a_goal(), "style", "relationship_ended", "u-grace", COACH)
    assert learned is not None
    assert learned.after.criteria.style == pytest.approx(0.6)
    assert set(learned.after.preferred_styles) == set(MentoringStyle) - set(COACH)
    assert set(learned.adjustment.styles_avoided) == set(COACH)
    assert learned.adjustment.trigger == "relationship_ended"


@pytest.mark.parametrize(
    ("reason", "trigger", "changes"),
    [
        ("availability", "relationship_ended", {"availability": (0.3, 0.6)}),
        ("availability", "proposal_declined", {"availability": (0.3, 0.45)}),
        ("expertise", "relationship_ended", {"skills": (1.0, 1.0), "experience": (0.5, 0.7)}),
        ("chemistry", "relationship_ended", {"background": (0.3, 0.5)}),
        ("chemistry", "proposal_declined", {"background": (0.3, 0.4)}),
    ],
)
def test_each_reason_raises_its_weights(reason, trigger, changes) -> None:
    learned = learning.learn(a_goal(), reason, trigger, "u-grace", COACH)
    assert learned is not None
    moved = {w.criterion: (w.before, w.after) for w in learned.adjustment.weights}
    assert moved == {k: v for k, v in changes.items() if v[0] != v[1]}
    assert learned.after.preferred_styles == ()


@pytest.mark.parametrize("reason", ["goal_reached", "other", None])
def test_some_reasons_teach_nothing(reason) -> None:
    assert learning.learn(a_goal(), reason, "relationship_ended", "u-grace", COACH) is None


def test_a_weight_at_its_top_teaches_nothing_more() -> None:
    top = a_goal(criteria={"availability": 1.0})
    assert learning.learn(top, "availability", "relationship_ended", "u-grace", []) is None


def test_undo_restores_the_preferences_exactly() -> None:
    before = a_goal(preferred_styles=["coaching", "advising"])
    learned = learning.learn(before, "style", "relationship_ended", "u-grace", COACH)
    assert learned is not None
    adjusted = learned.after.applied_to(before)
    assert adjusted.preferred_styles == [MentoringStyle.ADVISING]
    back = learning.undo(adjusted, learned.before, learned.adjustment.adjustment_id)
    assert back is not None and back.adjustment.undoes == learned.adjustment.adjustment_id
    restored = back.after.applied_to(adjusted)
    assert restored.criteria == before.criteria
    assert restored.preferred_styles == before.preferred_styles
    assert restored.version == before.version + 2
    assert learning.undo(restored, learned.before, learned.adjustment.adjustment_id) is None
