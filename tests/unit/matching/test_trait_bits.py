"""Re-ranking compares mentors on bit sets; the batch recompute on sets. Both must agree to
the last bit, or incremental rankings could differ from a recompute on a tie."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from services.matching.domain.batch import bits_similarities, mentor_similarity, trait_bits
from services.matching.domain.people import person_from_profile
from services.matching.domain.tables import Vocabulary
from tests.unit.builders import mentor

names = st.lists(st.sampled_from(["go", "rust", "sql", "kafka", "k8s", "ml", "ux"]), unique=True)
BASE = person_from_profile(mentor("m"))


@given(skills=st.tuples(names, names), industries=st.tuples(names, names))
def test_bit_sets_give_the_same_similarity_as_sets(
    skills: tuple[list[str], list[str]], industries: tuple[list[str], list[str]]
) -> None:
    a, b = (
        replace(BASE, skills=dict.fromkeys(s, 3), industries=tuple(i))
        for s, i in zip(skills, industries, strict=True)
    )
    vocab = {"skills": Vocabulary(), "industries": Vocabulary()}
    bits = [trait_bits(m, vocab["skills"].id, vocab["industries"].id) for m in (a, b)]
    assert bits_similarities([bits[0]], bits[1]) == [mentor_similarity(a, b)]
    assert bits_similarities([bits[1], bits[0]], bits[0]) == [
        mentor_similarity(b, a),
        mentor_similarity(a, a),
    ]
