"""mentorlink-ops: Kafka settings come from the same KAFKA_* variables the services read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
from aiokafka.errors import KafkaError
from rich.console import Console

from ops import render
from ops.dead_letters import parse_position, read_dead_letters
from ops.lag import consumer_lag
from ops.rebuild import RebuildError, RebuildResult, rebuild_matching, verify_matching
from ops.replay import replay
from ops.topics import create_topics, describe_topics
from shared.settings import KafkaSettings

app = typer.Typer(no_args_is_help=True, help=__doc__)
topics_app = typer.Typer(no_args_is_help=True, help="Create and describe the Mentorlink topics.")
dlq_app = typer.Typer(no_args_is_help=True, help="Inspect and replay dead-letter topics.")
matching_app = typer.Typer(no_args_is_help=True, help="Operate the matching service.")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
app.add_typer(matching_app, name="matching")

console = Console()
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine; a Kafka failure is one line and exit status 2."""
    try:
        return asyncio.run(coroutine)
    except KafkaError as error:
        console.print(f"[red]Kafka: {type(error).__name__}: {error}[/red]")
        raise typer.Exit(2) from None


def kafka_settings() -> KafkaSettings:
    return KafkaSettings()


@topics_app.command("create")
def topics_create() -> None:
    """Create every Mentorlink topic and its .dlq twin that does not exist yet."""
    settings = kafka_settings()
    created = run(create_topics(settings))
    for name in created:
        console.print(f"created {name}")
    console.print(
        f"{len(created)} created; partitions={settings.partitions} "
        f"replication={settings.replication_factor} "
        f"min.insync.replicas={settings.min_insync_replicas}"
    )


@topics_app.command("describe")
def topics_describe() -> None:
    """Partitions, leaders, replicas, in-sync replicas, end offsets and configs."""
    topics, missing = run(describe_topics(kafka_settings()))
    console.print(render.topics_table(topics))
    for name in missing:
        console.print(f"[yellow]missing: {name}[/yellow]")


@app.command("lag")
def lag(
    group: Annotated[
        str | None, typer.Option(help="One group; default: all with the prefix.")
    ] = None,
) -> None:
    """Committed offset against end offset per partition."""
    rows = run(consumer_lag(kafka_settings(), group))
    console.print(render.lag_table(rows))
    console.print(f"total lag {sum(row.lag for row in rows)}")


@dlq_app.command("list")
def dlq_list(topic: str) -> None:
    """Position, key, reason, error and failure time of each dead letter (never the payload)."""

    letters = run(read_dead_letters(kafka_settings(), topic))
    console.print(render.dead_letters_table(topic, letters))


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="The dead-letter topic, e.g. mentorlink.goals.dlq")],
    offset: Annotated[
        list[str] | None, typer.Option(help="PARTITION:OFFSET as `dlq list` prints; repeatable.")
    ] = None,
    partition: Annotated[int | None, typer.Option(help="Partition for bare offsets.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every letter in the topic.")] = False,
) -> None:
    """Republish the original key and bytes to the source topic, once per original message."""
    if all_ == bool(offset):
        raise typer.BadParameter("give --offset (one or more) or --all")
    try:
        positions = None if all_ else [parse_position(o, partition) for o in offset or ()]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    report = run(replay(kafka_settings(), topic, positions))
    for letter in report.replayed:
        console.print(f"replayed {letter.reference} -> {letter.original}")
    for letter in report.already_replayed:
        console.print(f"already replayed {letter.reference} ({letter.original})")
    for letter in report.not_replayable:
        console.print(f"[red]no x-dlq-source-topic header: {letter.reference}[/red]")
    for letter in report.truncated:
        console.print(
            f"[red]truncated dead letter, not replayed: {letter.reference}; "
            f"the original is at {letter.original}[/red]"
        )
    for p, o in report.not_found:
        console.print(f"[red]not in {topic}: {p}:{o}[/red]")
    console.print(
        f"{len(report.replayed)} replayed, {len(report.already_replayed)} already replayed"
    )
    if report.not_found or report.not_replayable or report.truncated:
        raise typer.Exit(1)


MatchingUrl = Annotated[str, typer.Option(help="A matching instance, e.g. http://matching:8000")]
AdminToken = Annotated[
    str | None, typer.Option(envvar="MATCHING_ADMIN_TOKEN", help="matching's admin token")
]


@matching_app.command("rebuild")
def matching_rebuild(
    url: MatchingUrl,
    token: AdminToken = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 600.0,
) -> None:
    """Ask the matching service to rebuild its state from its store."""
    _report("rebuild", lambda: rebuild_matching(url, timeout, token))


@matching_app.command("verify")
def matching_verify(
    url: MatchingUrl,
    token: AdminToken = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 600.0,
) -> None:
    """Compare the instance's rankings with a from-scratch batch recompute; exit 1 if any differ."""
    result = _report("verify", lambda: verify_matching(url, timeout, token))
    if isinstance(result.body, dict) and result.body.get("differ"):
        raise typer.Exit(1)


def _report(action: str, call: Callable[[], RebuildResult]) -> RebuildResult:
    try:
        result = call()
    except RebuildError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{action} answered {result.status}")
    if result.body is not None:
        console.print_json(json.dumps(result.body))
    return result
