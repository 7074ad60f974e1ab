from services.matching.domain import kernels
from services.matching.domain.warm_up import compile_kernels


def test_the_warm_up_scores_through_both_compiled_passes() -> None:
    assert compile_kernels() == {"warm-up-mentee": ("warm-up-mentor",)}
    assert kernels.best_mentees.signatures
    assert kernels.mentors_reaching.signatures
