"""`make bench-failover`'s gap: the longest stretch without a handled event after a fault."""

from __future__ import annotations

from benchmarks.failover import RunResult, p99, result_line
from benchmarks.failover_faults import Progress


def progress_at(*moments: float) -> Progress:
    return Progress(services={}, moments=list(moments))


def test_the_gap_runs_from_the_fault_to_the_first_event_after_it() -> None:
    progress = progress_at(9.0, 9.5, 18.0, 18.2, 18.4, 30.0)
    assert progress.gap(start=10.0, end=25.0) == 8.0  # 10 -> 18


def test_a_stall_that_outlasts_the_window_counts_until_the_first_event_after_it() -> None:
    progress = progress_at(9.0, 40.0)
    assert progress.gap(start=10.0, end=25.0) == 30.0  # 10 -> 40


def test_the_quiet_after_the_window_does_not_count() -> None:
    progress = progress_at(12.0, 12.5, 13.0, 60.0)  # the workload ended at 14
    assert progress.gap(start=10.0, end=14.0) == 2.0


def test_a_later_stall_within_the_window_counts_too() -> None:
    progress = progress_at(10.5, 11.0, 20.0, 21.0)
    assert progress.gap(start=10.0, end=25.0) == 9.0  # 11 -> 20


def test_p99_of_a_few_faults_is_the_largest() -> None:
    assert p99([3.0, 9.0, 4.0]) == 9.0
    assert p99([float(i) for i in range(1, 201)]) == 198.0


def test_not_ready_is_the_longest_stretch_of_one_service_answering_other_than_200() -> None:
    progress = progress_at()
    progress.readiness = [
        (10.0, "profile", True),
        (11.0, "profile", False),
        (11.0, "matching", False),
        (12.0, "matching", True),  # matching: 1 s
        (14.0, "profile", False),
        (15.5, "profile", True),  # profile: 11 -> 15.5
        (30.0, "profile", False),  # after the window
    ]
    assert progress.longest_unready(start=10.0, end=20.0) == 4.5


def test_a_service_still_not_ready_at_the_window_end_counts_up_to_it() -> None:
    progress = progress_at()
    progress.readiness = [(10.0, "notifications", False), (12.0, "notifications", False)]
    assert progress.longest_unready(start=9.0, end=16.0) == 6.0


def test_one_service_standing_still_shows_in_its_own_gap_not_in_the_sum() -> None:
    progress = progress_at(10.5, 11.0, 12.0, 13.0, 14.0, 20.0)
    progress.by_service = {
        "profile": [10.5, 11.0, 12.0, 13.0, 14.0, 20.0],
        "matching": [10.5, 19.0],
    }
    assert progress.gap(start=10.0, end=20.0) == 6.0  # 14 -> 20
    assert progress.worst_service_gap(start=10.0, end=20.0) == 8.5  # matching: 10.5 -> 19


def a_run(kill: list[float], freeze: list[float], db: list[float], lost: int = 0) -> RunResult:
    return RunResult(
        ok=lost == 0,
        broker_failovers=len(kill) + len(freeze),
        db_failovers=len(db),
        lost=lost,
        duplicate_emails=0,
        rankings_equal_truth=True,
        gaps={"kill": kill, "freeze": freeze, "db": db},
    )


def figures(line: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in line.split())


def test_the_result_line_says_over_how_many_faults_each_p99_is() -> None:
    line = figures(result_line([a_run(kill=[4.5, 6.0], freeze=[8.8, 9.1], db=[2.4, 2.0])]))
    assert line["leader_gap_p99_s"] == "6.0"
    assert line["leader_gap_faults"] == "2"
    assert line["frozen_leader_gap_faults"] == "2"
    assert line["db_gap_faults"] == "2"
    assert line["runs"] == "1"


def test_several_runs_pool_their_faults_into_one_p99() -> None:
    runs = [
        a_run(kill=[4.5, 6.0], freeze=[8.8], db=[2.4]),
        a_run(kill=[17.0, 5.0], freeze=[9.0], db=[3.0], lost=1),
    ]
    line = figures(result_line(runs))
    assert (line["leader_gap_p99_s"], line["leader_gap_faults"]) == ("17.0", "4")
    assert (line["frozen_leader_gap_p99_s"], line["frozen_leader_gap_faults"]) == ("9.0", "2")
    assert (line["broker_failovers"], line["db_failovers"], line["lost"]) == ("6", "2", "1")
    assert line["runs"] == "2"


def test_a_fault_kind_not_applied_has_no_p99() -> None:
    line = figures(result_line([a_run(kill=[4.5], freeze=[], db=[2.4])]))
    assert (line["frozen_leader_gap_p99_s"], line["frozen_leader_gap_faults"]) == ("nan", "0")


def test_the_worst_service_gap_names_its_service_and_where_it_lies() -> None:
    progress = progress_at(10.5, 11.0, 12.0, 13.0, 14.0, 20.0)
    progress.by_service = {
        "profile": [10.5, 11.0, 12.0, 13.0, 14.0, 20.0],
        "matching": [10.5, 19.0],
    }
    assert progress.worst_service_span(start=10.0, end=20.0) == ("matching", 10.5, 19.0)


def test_metrics_unanswered_is_the_longest_stretch_a_service_left_the_probe_blind() -> None:
    progress = progress_at()
    progress.scrapes = [
        (10.0, "matching", True),
        (11.0, "matching", False),
        (13.0, "matching", False),
        (33.0, "matching", True),  # matching: 11 -> 33
        (12.0, "profile", False),
        (13.0, "profile", True),
    ]
    assert progress.longest_unscraped(start=10.0, end=40.0, service="matching") == 22.0
    assert progress.longest_unscraped(start=10.0, end=40.0, service="profile") == 1.0
