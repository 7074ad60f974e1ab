"""Must-have criteria (domain/musts.py) are hard constraints: the engine never ranks a mentor
lacking one of the goal's musts, however well it scores, and a mentor update that makes it
meet or stop meeting a must re-ranks the mentee incrementally, as the batch reference does.
When the musts are why a goal has no mentor, its (empty) proposal says which must nobody meets
and whom dropping each would give."""

from __future__ import annotations

import json

from services.matching.adapters.stored_people import goal_from_json, goal_to_json
from services.matching.domain.batch import recompute
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine, population
from services.matching.domain.musts import meets, unmet, without
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.seekers import seeker_key
from tests.unit.builders import goal, mentee, mentor
from tests.unit.matching.cluster import Cluster
from tests.unit.matching.test_handlers import goal_set, profile, proposed, run

GERMAN = {"languages": ["de"]}


def _engine() -> TenantEngine:
    engine = TenantEngine(EngineConfig(top_k=3))
    # the best-scored mentor (level 5, fintech) speaks only English
    best = mentor("best", skills=[{"name": "kubernetes", "level": 5}], languages=["en"])
    other = mentor("other", skills=[{"name": "kubernetes", "level": 2}], languages=["de", "en"])
    for person in (best, other):
        engine.put_mentor_data(person_from_profile(person))
        engine.refresh_mentor(person.user_id, range(engine.config.partitions))
    engine.put_mentee(person_from_profile(mentee("ada", languages=["de"])), 0)
    return engine


def _ranked(engine: TenantEngine) -> tuple[str, ...]:
    engine.check_invariants()
    ids = engine.ranking_ids()
    assert ids == recompute(population(engine), engine.config)
    return ids.get(seeker_key("ada", "g1"), ())


def test_the_rule_names_what_a_mentor_lacks() -> None:
    wanted = goal_from_payload(goal("ada", musts={"languages": ["de"], "styles": ["coaching"]}))
    speaker = person_from_profile(mentor("m", languages=["de"], mentoring_styles=["coaching"]))
    english = person_from_profile(mentor("n", languages=["en"], mentoring_styles=["coaching"]))
    assert meets(wanted, speaker) and unmet(wanted, speaker) == ()
    assert not meets(wanted, english)
    assert unmet(wanted, english) == (("languages", "de"),)
    assert without(wanted, ("languages", "de")) == (("styles", "coaching"),)


def test_a_required_language_excludes_the_best_scored_mentor() -> None:
    engine = _engine()
    engine.put_goal(goal_from_payload(goal("ada")), 0)
    assert _ranked(engine)[0] == "best"
    engine.put_goal(goal_from_payload(goal("ada", version=2, musts=GERMAN)), 0)
    assert _ranked(engine) == ("other",)


def test_a_mentor_update_that_meets_or_stops_meeting_a_must_re_ranks() -> None:
    engine = _engine()
    engine.put_goal(goal_from_payload(goal("ada", musts=GERMAN)), 0)
    assert _ranked(engine) == ("other",)
    engine.drain()
    learned = mentor("best", 2, skills=[{"name": "kubernetes", "level": 5}], languages=["de"])
    engine.put_mentor_data(person_from_profile(learned))
    engine.refresh_mentor("best", range(engine.config.partitions))
    assert _ranked(engine) == ("best", "other")
    assert seeker_key("ada", "g1") in engine.drain().rankings
    forgot = mentor("other", 2, skills=[{"name": "kubernetes", "level": 2}], languages=["en"])
    engine.put_mentor_data(person_from_profile(forgot))
    engine.refresh_mentor("other", range(engine.config.partitions))
    assert _ranked(engine) == ("best",)
    assert seeker_key("ada", "g1") in engine.drain().rankings


def test_a_must_no_mentor_meets_leaves_the_ranking_empty() -> None:
    engine = _engine()
    engine.put_goal(goal_from_payload(goal("ada", musts={"languages": ["nl"]})), 0)
    assert _ranked(engine) == ()


def _told(cluster: Cluster) -> list[tuple[str, str, bool, list[str]]]:
    last = [p for p in cluster.proposals if p.payload.mentee_id == "x1"][-1]
    assert last.payload.mentors == []
    return [
        (u.kind, u.value, u.met_by_nobody, [a.display_name for a in u.alternatives])
        for u in last.payload.unmet_musts
    ]


KUBERNETES = [{"name": "kubernetes", "level": 5}]
PEOPLE = [
    profile(mentor("m1", display_name="Grace", skills=KUBERNETES, languages=["en"])),
    profile(
        mentor(
            "m2",
            display_name="Alan",
            skills=[{"name": "kubernetes", "level": 3}],
            languages=["de"],
            mentoring_styles=["advising"],
        )
    ),
    profile(mentee("x1")),
]


def test_a_first_goal_whose_musts_nobody_meets_is_answered_with_the_alternatives() -> None:
    cluster = run(*PEOPLE, goal_set("x1", musts={"languages": ["nl"]}))
    assert _told(cluster) == [("languages", "nl", True, ["Grace", "Alan"])]


def test_musts_met_apart_but_not_together_name_whom_dropping_each_gives() -> None:
    cluster = run(*PEOPLE, goal_set("x1", musts={"languages": ["de"], "styles": ["coaching"]}))
    assert _told(cluster) == [
        ("languages", "de", False, []),  # nobody offers coaching: dropping German alone won't do
        ("styles", "coaching", True, ["Alan"]),
    ]


def test_a_goal_whose_skills_nobody_holds_is_not_blamed_on_its_musts() -> None:
    cluster = run(*PEOPLE, goal_set("x1", target_skills=["cobol"], musts={"languages": ["de"]}))
    assert all(not p.payload.unmet_musts for p in cluster.proposals)


def test_met_musts_send_the_ranking_and_tell_nothing_more() -> None:
    cluster = run(*PEOPLE, goal_set("x1", musts={"languages": ["de"]}))
    assert proposed(cluster, "x1") == [("m2",)]
    assert all(not p.payload.unmet_musts for p in cluster.proposals)


def test_musts_survive_the_store_and_older_stored_goals_have_none() -> None:
    wanted = goal_from_payload(goal("ada", musts={"languages": ["de"], "industries": ["fintech"]}))
    assert wanted.musts == (("industries", "fintech"), ("languages", "de"))
    assert goal_from_json(goal_to_json(wanted)) == wanted
    older = json.loads(goal_to_json(wanted))
    del older["musts"]  # as stored before musts existed
    assert goal_from_json(json.dumps(older)).musts == ()
