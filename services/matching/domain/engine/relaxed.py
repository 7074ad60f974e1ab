"""When a goal's musts are why it has no mentor: which must nobody meets, and whom the mentee
would get by dropping one (the email says so instead of a silent wait)."""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.domain.engine.rankings import Ranked
from services.matching.domain.engine.tenant import TenantEngine
from services.matching.domain.musts import Must, without
from services.matching.domain.people import tiebreak

ALTERNATIVES = 3  # mentors named per must dropped


@dataclass(frozen=True)
class Relaxed:
    must: Must
    met_by_nobody: bool  # no open mentor with a goal skill meets it, even alone
    alternatives: tuple[Ranked, ...]  # best first: who dropping it gives (others kept)


def unmet_musts(engine: TenantEngine, key: str) -> tuple[Relaxed, ...]:
    """Each must of the mentee's goal, when no open mentor holding a goal skill meets them all
    while some such mentor exists without them; empty otherwise (no musts, nobody with the
    goal's skills at all, or mentors meeting the musts that the exposure cap or a wait hides).
    Mentors are those the pair rules allow and the mentee did not exclude; the exposure cap is
    not applied to the alternatives."""
    goal = engine.roster.goals.get(key)  # one goal of a mentee: a seeker (domain/seekers.py)
    slot = engine.search.mentee_slot(key)
    if goal is None or not goal.musts or slot is None or not engine.search.is_ranked(slot):
        return ()
    excluded = engine.roster.excluded.get(key) or ()

    def best(musts: tuple[Must, ...], most: int) -> tuple[Ranked, ...]:
        found = engine.search.eligible_mentors(slot, excluded, musts)
        names = engine.search.mentors.slots.user_ids
        ranked = sorted(
            (-score, tiebreak(names[s] or ""), names[s] or "")
            for s, score in zip(found.slots.tolist(), found.totals.tolist(), strict=True)
        )
        return tuple(Ranked(mentor_id, -negated) for negated, _, mentor_id in ranked[:most])

    if best(goal.musts, 1) or not best((), 1):
        return ()
    return tuple(
        Relaxed(must, not best((must,), 1), best(without(goal, must), ALTERNATIVES))
        for must in goal.musts
    )
