"""`explain`'s hard rules, each named for the mentor it keeps out, and `preview`'s ranking: the
batch reference over one mentee, with the other mentees' places in each mentor's cap."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import pytest

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.criteria import score_pair
from services.matching.domain.explaining import MenteeGoal, exclusion, others_best, ranking
from services.matching.domain.people import (
    Person,
    goal_from_payload,
    person_from_profile,
    tiebreak,
)
from services.matching.domain.relationships import Relationship
from services.matching.service_layer.reads import compared, ranked_mentor
from shared.contracts.reads import ExclusionRule
from tests.unit.builders import goal, mentee, mentor

CONFIG = EngineConfig(top_k=2, exposure_per_seat=1.0)
ADA = person_from_profile(mentee("ada", manager_id="boss"))
GOAL = goal_from_payload(goal("ada"))


def _mentor(user_id: str, **overrides: Any) -> Person:
    return person_from_profile(mentor(user_id, display_name=f"Mentor {user_id}", **overrides))


def _view(**overrides: Any) -> MenteeGoal:
    base = MenteeGoal(ADA, GOAL, frozenset(), ())
    return replace(base, **overrides)


def _rel(mentor_id: str, state: str, goal_id: str = "g1", never: bool = False) -> Relationship:
    return Relationship("r-" + mentor_id, "ada", mentor_id, goal_id, state, 1, never)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "who", "rule", "words"),
    [
        (_view(), _mentor("ada", roles=["mentor", "mentee"]), "same_person", "themselves"),
        (_view(), _mentor("boss"), "reporting_line", "reporting line"),
        (_view(), _mentor("rex", manager_id="ada"), "reporting_line", "reporting line"),
        (_view(declined=frozenset({"m"})), _mentor("m"), "declined", "'Not for me'"),
        (_view(relationships=(_rel("m", "requested"),)), _mentor("m"), "in_relationship", "asked"),
        (_view(relationships=(_rel("m", "active"),)), _mentor("m"), "in_relationship", "working"),
        (_view(relationships=(_rel("m", "declined"),)), _mentor("m"), "not_again_for_goal", "goal"),
        (
            _view(relationships=(_rel("m", "ended", "old", never=True),)),
            _mentor("m"),
            "not_again_for_goal",
            "ever",
        ),
        (
            _view(relationships=(_rel("other", "active"),)),
            _mentor("m"),
            "goal_waiting",
            "relationship for this goal",
        ),
        (_view(), _mentor("m", opted_in=False), "not_taking_mentees", "not taking"),
        (_view(), _mentor("m", capacity=2, seats_taken=2), "no_free_seat", "2 of 2 are taken"),
        (
            _view(),
            _mentor("m", skills=[{"name": "cooking", "level": 5}]),
            "no_goal_skill",
            "none of your goal skills",
        ),
        (
            _view(goal=goal_from_payload(goal("ada", musts={"languages": ["de"]}))),
            _mentor("m", languages=["en"]),
            "unmet_must",
            "requires a mentor who speaks de; Mentor m does not",
        ),
    ],
)
def test_each_hard_rule_is_named_in_words(view, who, rule, words) -> None:
    found = exclusion(view, who, [], CONFIG)
    assert found is not None
    assert (found.rule, words in found.detail) == (rule, True), found


def test_a_mentor_of_an_earlier_goal_is_not_excluded_by_its_ended_request() -> None:
    view = _view(relationships=(_rel("m", "ended", "old"),))
    assert exclusion(view, _mentor("m"), [], CONFIG) is None


def test_the_exposure_cap_names_how_many_others_fit_better() -> None:
    grace = _mentor("m", capacity=1)  # one free seat: shown to one mentee (1 per seat)
    ours = score_pair(GOAL, ADA, grace).total
    better = [(-(ours + 0.1), tiebreak("zed"))]
    worse = [(-(ours - 0.1), tiebreak("zed"))]
    capped = exclusion(_view(), grace, better, CONFIG)
    assert capped is not None and capped.rule == "exposure_cap", capped
    assert "at most 1 mentees" in capped.detail
    assert exclusion(_view(), grace, worse, CONFIG) is None


def test_others_best_leaves_the_mentee_out_and_keeps_the_budget_per_partition() -> None:
    grace = _mentor("m", capacity=2)  # budget 2
    lists = [[("ada", 0.9), ("b", 0.8), ("c", 0.7)], [("d", 0.6), ("e", 0.5), ("f", 0.4)]]
    keys = others_best("ada", grace, lists, CONFIG)
    assert sorted(-k[0] for k in keys) == [0.5, 0.6, 0.7, 0.8]


def test_preview_ranking_follows_the_weights_and_the_cap() -> None:
    skilled = _mentor("skilled", skills=[{"name": "kubernetes", "level": 5}], languages=["fr"])
    speaker = _mentor(
        "speaker", skills=[{"name": "kubernetes", "level": 1}], languages=["de", "en"]
    )
    ada = replace(ADA, languages=("de",))
    mentors = {m.user_id: m for m in (skilled, speaker)}
    skills_only = (1.0, 0, 0, 0, 0, 0, 0, 0)
    language_first = (0.1, 0, 0, 0, 0, 0, 1.0, 0)
    view = _view(mentee=ada)
    assert ranking(view.with_weights(skills_only), mentors, {}, CONFIG)[0] == "skilled"
    assert ranking(view.with_weights(language_first), mentors, {}, CONFIG)[0] == "speaker"
    # the speaker's 3 places (3 free seats, 1 mentee per seat) held by mentees who fit them
    # better: left out whatever the weights
    full = {"speaker": [(-1.0, tiebreak(f"x{i}")) for i in range(3)]}
    assert ranking(view.with_weights(language_first), mentors, full, CONFIG) == ("skilled",)


def test_a_mentor_no_rule_keeps_out_is_compared_with_the_last_proposed() -> None:
    strong = _mentor("strong", skills=[{"name": "kubernetes", "level": 5}])
    weak = _mentor("weak", skills=[{"name": "kubernetes", "level": 1}])
    view = _view()
    answer = compared(view, weak, [ranked_mentor(view, strong, 1)])
    assert not answer.proposed and answer.excluded_by is None
    assert answer.last_proposed is not None and answer.last_proposed.mentor_id == "strong"
    assert "below Mentor strong" in answer.summary, answer.summary
    skills = answer.criteria[0]
    assert skills.criterion == "skills"
    assert skills.last_proposed is not None and skills.mentor < skills.last_proposed
    # scored above the last proposed, yet left out: the proposal's variety
    above = compared(view, strong, [ranked_mentor(view, weak, 1)])
    assert "different types of mentor" in above.summary, above.summary


def test_every_rule_the_domain_names_is_one_the_contract_carries() -> None:
    named = {"same_person", "reporting_line", "not_a_mentor", "declined", "in_relationship"}
    named |= {"not_again_for_goal", "goal_waiting", "not_taking_mentees", "no_free_seat"}
    named |= {"no_goal_skill", "unmet_must", "exposure_cap"}
    source = (Path(__file__).parents[3] / "services/matching/domain/explaining.py").read_text()
    assert set(re.findall(r'Excluded\("(\w+)"', source)) == named
    assert set(get_args(ExclusionRule)) == named
