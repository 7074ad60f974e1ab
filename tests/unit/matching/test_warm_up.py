from services.matching.adapters.warm_up import compile_kernels
from services.matching.domain.search import kernels, mentor_scan


def test_the_warm_up_scores_through_both_compiled_passes() -> None:
    assert compile_kernels() == {"warm-up-mentee": ("warm-up-mentor",)}
    assert mentor_scan.best_mentees.signatures
    assert kernels.mentors_reaching.signatures
