"""Replay dead letters to their source topic, each original message at most once.

Idempotence is recorded in Kafka itself: every replayed copy carries `x-replayed-from`
(`<dlq>:<partition>:<offset>`) and `x-replay-of` (the failed message's own position). Before
publishing, the source partition is scanned from the oldest selected letter's time for those
headers; a letter whose copy is there, or whose original was already replayed from another
service's letter, is skipped. A crash between publishing and a rerun cannot cause a second copy
because the copy is itself the record. Were a copy still duplicated (a copy removed by retention,
two operators at once), consumers drop event ids they already processed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ops.dead_letters import (
    REPLAY_OF,
    REPLAYED_FROM,
    DeadLetterRecord,
    Position,
    read_dead_letters,
    read_topic,
)
from ops.kafka_clients import CLIENT_ID
from shared.kafka.producer import kafka_producer
from shared.settings import KafkaSettings

CLOCK_SKEW_MARGIN_MS = 60 * 60 * 1000  # the copy's timestamp comes from the operator's clock


@dataclass
class ReplayReport:
    replayed: list[DeadLetterRecord] = field(default_factory=list)
    already_replayed: list[DeadLetterRecord] = field(default_factory=list)
    not_replayable: list[DeadLetterRecord] = field(default_factory=list)  # no source header
    # a dead letter too large to publish whole holds the body's first bytes only; the original
    # is at `letter.original` on its source topic while retention keeps it
    truncated: list[DeadLetterRecord] = field(default_factory=list)
    not_found: list[Position] = field(default_factory=list)


async def replay(
    settings: KafkaSettings, dlq_topic: str, positions: Iterable[Position] | None
) -> ReplayReport:
    """Replay the letters at `positions` of `dlq_topic`, or all of them when None."""
    report = ReplayReport()
    letters = await read_dead_letters(settings, dlq_topic)
    chosen = _choose(letters, positions, report)
    done = await _replayed_markers(settings, chosen)
    async with kafka_producer(settings, CLIENT_ID) as producer:
        for letter in chosen:
            if letter.reference in done or letter.original in done:
                report.already_replayed.append(letter)
                continue
            await producer.send_and_wait(
                letter.source_topic,
                value=letter.value,
                key=letter.key,
                partition=letter.source_partition,
                headers=letter.replay_headers(),
            )
            done |= {letter.reference, letter.original}
            report.replayed.append(letter)
    return report


def _choose(
    letters: list[DeadLetterRecord], positions: Iterable[Position] | None, report: ReplayReport
) -> list[DeadLetterRecord]:
    by_position = {letter.position: letter for letter in letters}
    wanted = sorted(set(positions)) if positions is not None else sorted(by_position)
    report.not_found = [p for p in wanted if p not in by_position]
    chosen = [by_position[p] for p in wanted if p in by_position]
    report.not_replayable = [letter for letter in chosen if not letter.source_topic]
    report.truncated = [letter for letter in chosen if letter.header("x-dlq-truncated") == "true"]
    return [letter for letter in chosen if letter.source_topic and letter not in report.truncated]


async def _replayed_markers(settings: KafkaSettings, letters: list[DeadLetterRecord]) -> set[str]:
    """Marker header values on the source partitions, since the oldest selected letter."""
    since: dict[tuple[str, int | None], int] = defaultdict(lambda: 2**62)
    for letter in letters:
        where = (letter.source_topic, letter.source_partition)
        since[where] = min(since[where], letter.timestamp_ms - CLOCK_SKEW_MARGIN_MS)
    markers: set[str] = set()
    for (topic, partition), since_ms in since.items():
        for record in await read_topic(settings, topic, max(since_ms, 0), partition):
            markers.update(
                value.decode(errors="replace")
                for key, value in record.headers or ()
                if key in (REPLAYED_FROM, REPLAY_OF)
            )
    return markers
