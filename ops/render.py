"""Rich tables for the commands' results. Payloads are never shown: they hold personal data."""

from __future__ import annotations

from rich.table import Table

from ops.dead_letters import DeadLetterRecord
from ops.lag import PartitionLag
from ops.topics import TopicInfo


def _ids(numbers: tuple[int, ...]) -> str:
    return ",".join(map(str, numbers))


def topics_table(topics: list[TopicInfo]) -> Table:
    table = Table(title="Mentorlink topics")
    for column in ("topic", "partition", "leader", "replicas", "isr", "end offset", "configs"):
        table.add_column(column, no_wrap=column != "configs")
    for topic in topics:
        configs = " ".join(f"{k}={v}" for k, v in sorted(topic.configs.items()))
        for index, p in enumerate(topic.partitions):
            table.add_row(
                topic.name if index == 0 else "",
                str(p.partition),
                str(p.leader),
                _ids(p.replicas),
                _ids(p.isr),
                str(p.end_offset),
                configs if index == 0 else "",
                style="red" if len(p.isr) < len(p.replicas) else None,
            )
    return table


def lag_table(rows: list[PartitionLag]) -> Table:
    table = Table(title="Consumer lag")
    for column in ("group", "topic", "partition", "committed", "end offset", "lag"):
        table.add_column(column, no_wrap=True, justify="right" if column != "group" else "left")
    for row in rows:
        table.add_row(
            row.group,
            row.topic,
            str(row.partition),
            "-" if row.committed is None else str(row.committed),
            str(row.end),
            str(row.lag),
            style="yellow" if row.lag else None,
        )
    return table


def dead_letters_table(topic: str, letters: list[DeadLetterRecord]) -> Table:
    table = Table(title=f"{topic}: {len(letters)} dead letters (payloads not shown)")
    for column in ("position", "key", "reason", "error", "service", "failed at", "source"):
        table.add_column(column, no_wrap=column not in ("error", "source"))
    for letter in letters:
        table.add_row(
            f"{letter.partition}:{letter.offset}",
            (letter.key or b"").decode(errors="replace"),
            letter.header("x-dlq-reason"),
            letter.header("x-dlq-error")[:200],
            letter.header("x-dlq-service"),
            letter.header("x-dlq-failed-at"),
            letter.original,
        )
    return table
