"""mentorlink-ops pieces that need no broker: positions, replay headers, lag arithmetic."""

from __future__ import annotations

import pytest

from ops.dead_letters import DeadLetterRecord, parse_position
from ops.lag import PartitionLag
from ops.replay import ReplayReport, _choose


def test_positions_are_partition_and_offset() -> None:
    assert parse_position("3:17") == (3, 17)
    assert parse_position("17", partition=2) == (2, 17)


@pytest.mark.parametrize("text", ["17", "a:1", "1:b", ""])
def test_a_bare_or_malformed_offset_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="PARTITION:OFFSET"):
        parse_position(text)


def _letter(headers: tuple[tuple[str, str], ...]) -> DeadLetterRecord:
    return DeadLetterRecord("t.goals.dlq", 1, 9, 0, b"k", b"{}", headers)


def test_a_replayed_copy_drops_dead_letter_headers_and_names_where_it_came_from() -> None:
    letter = _letter(
        (
            ("traceparent", "00-abc"),
            ("x-dlq-reason", "schema_violation"),
            ("x-dlq-source-topic", "t.goals"),
            ("x-dlq-partition", "4"),
            ("x-dlq-offset", "120"),
            ("x-replayed-from", "stale"),
        )
    )
    assert letter.source_topic == "t.goals"
    assert letter.source_partition == 4
    assert letter.replay_headers() == [
        ("traceparent", b"00-abc"),
        ("x-replayed-from", b"t.goals.dlq:1:9"),
        ("x-replay-of", b"t.goals:4:120"),
        ("x-replay-dead-lettered-ms", b"0"),  # the letter's time: consumers compare erasures
    ]


def test_a_copy_replayed_again_keeps_when_the_original_first_failed() -> None:
    first_failure = (("x-replay-dead-lettered-ms", "1000"),)
    again = DeadLetterRecord("t.goals.dlq", 1, 9, 5000, b"k", b"{}", first_failure)
    assert ("x-replay-dead-lettered-ms", b"1000") in again.replay_headers()


def test_a_letter_without_a_source_partition_leaves_the_partition_to_the_key() -> None:
    assert _letter((("x-dlq-source-topic", "t.goals"),)).source_partition is None


def test_a_truncated_letter_is_not_replayed_and_points_at_its_original() -> None:
    source = (("x-dlq-source-topic", "t.goals"), ("x-dlq-partition", "4"), ("x-dlq-offset", "7"))
    whole = DeadLetterRecord("t.goals.dlq", 0, 1, 0, b"k", b"{}", source)
    cut = DeadLetterRecord(
        "t.goals.dlq", 0, 2, 0, b"k", b"{", (*source, ("x-dlq-truncated", "true"))
    )
    report = ReplayReport()
    assert _choose([whole, cut], None, report) == [whole]
    assert report.truncated == [cut]
    assert cut.original == "t.goals:4:7"


@pytest.mark.parametrize(
    ("committed", "start", "end", "lag"),
    [
        (None, 0, 5, 5),  # never committed: everything from the beginning is still to read
        (None, 3, 5, 2),  # retention removed the first records
        (2, 0, 5, 3),
        (1, 3, 5, 2),  # committed before what retention kept: resumes at the start
        (5, 0, 5, 0),
    ],
)
def test_lag_counts_what_the_group_has_yet_to_read(
    committed: int | None, start: int, end: int, lag: int
) -> None:
    assert PartitionLag("g", "t", 0, committed, start, end).lag == lag
