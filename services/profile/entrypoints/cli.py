"""`mentorlink-profile`: serve the API, manage tenant API keys, import a CSV of profiles."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from services.profile.settings import SCHEMA, SERVICE_NAME, ProfileSettings
from shared.startup import settings_or_exit

T = TypeVar("T")

cli = typer.Typer(help="Mentorlink profile service.", no_args_is_help=False, add_completion=False)
keys = typer.Typer(help="Tenant API keys (only their hashes are stored).", no_args_is_help=True)
cli.add_typer(keys, name="keys")
tenants = typer.Typer(
    help="Per-tenant lifecycle settings (docs/lifecycle.md).", no_args_is_help=True
)
cli.add_typer(tenants, name="tenants")
err = Console(stderr=True)


def _with_pool(work: Callable[[asyncpg.Pool, ProfileSettings], Awaitable[T]]) -> T:
    """Run `work` with a migrated pool on the service's schema (no Kafka needed)."""
    from services.profile.bootstrap import MIGRATIONS
    from shared.db.migrations import apply_migrations
    from shared.db.pool import create_pool

    settings = settings_or_exit(SERVICE_NAME, ProfileSettings)

    async def main() -> T:
        pool = await create_pool(settings.db, SCHEMA)
        try:
            await apply_migrations(pool, SCHEMA, MIGRATIONS)
            return await work(pool, settings)
        finally:
            await pool.close()

    return asyncio.run(main())


@cli.callback(invoke_without_command=True)
def serve(ctx: typer.Context) -> None:
    """Serve the profile API and the ingress consumer (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    from services.profile.bootstrap import bootstrap
    from shared.runtime import run_http_service

    run_http_service(SERVICE_NAME, settings_or_exit(SERVICE_NAME, ProfileSettings), bootstrap)


@keys.command("create")
def create_key(
    tenant: str = typer.Option(..., help="Tenant id the key is scoped to."),
    label: str = typer.Option("", help="What the key is for."),
) -> None:
    """Create an API key; its secret is printed once and stored only as a hash."""
    from services.profile.adapters.api_keys import ApiKeys

    issued = _with_pool(lambda pool, _s: ApiKeys(pool).create(tenant, label))
    typer.echo(issued.token)


@keys.command("rotate")
def rotate_key(
    key_id: str = typer.Argument(..., help="The key to replace (the part after ml_)."),
    grace_minutes: float = typer.Option(
        60, min=0, help="How long the old key keeps working (0: stop it now)."
    ),
) -> None:
    """Issue a new key for the same tenant; the old one stops after the grace period."""
    from services.profile.adapters.api_keys import ApiKeys, UnknownKey

    try:
        issued = _with_pool(lambda pool, _s: ApiKeys(pool).rotate(key_id, grace_minutes * 60))
    except UnknownKey:
        typer.echo(f"no usable key {key_id!r}", err=True)
        raise typer.Exit(1) from None
    typer.echo(issued.token)


@keys.command("revoke")
def revoke_key(key_id: str = typer.Argument(..., help="The key id (the part after ml_).")) -> None:
    """Stop a key at once."""
    from services.profile.adapters.api_keys import ApiKeys

    if not _with_pool(lambda pool, _s: ApiKeys(pool).revoke(key_id)):
        typer.echo(f"no active key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@keys.command("list")
def list_keys(tenant: str = typer.Option(..., help="Tenant id.")) -> None:
    """A tenant's keys: ids, labels and state (never the secrets)."""
    from services.profile.adapters.api_keys import ApiKeys

    table = Table("key id", "label", "created", "expires", "revoked")
    for key in _with_pool(lambda pool, _s: ApiKeys(pool).list(tenant)):
        table.add_row(
            key.key_id,
            key.label,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    Console().print(table)


@tenants.command("set")
def set_tenant(
    tenant: str = typer.Option(..., help="Tenant id."),
    request_deadline_days: int | None = typer.Option(None, min=1, max=60),
    fit_check_days: int | None = typer.Option(None, min=1, max=180),
    open_requests_limit: int | None = typer.Option(None, min=1, max=20),
    max_active_goals: int | None = typer.Option(
        None, min=1, max=20, help="Goals a mentee may hold open at once (default 3)."
    ),
) -> None:
    """Set a tenant's own lifecycle terms and goal limit (a setting left out keeps its value
    or default)."""
    from services.profile.adapters.postgres_relationships import (
        PostgresRelationships,
        set_tenant_terms,
        tenant_goal_limit,
    )
    from services.profile.service_layer.goals import DEFAULT_MAX_OPEN_GOALS

    async def work(pool: asyncpg.Pool, settings: ProfileSettings) -> str:
        async with pool.acquire() as conn:
            await set_tenant_terms(
                conn,
                tenant,
                request_deadline_days,
                fit_check_days,
                open_requests_limit,
                max_active_goals,
            )
            terms = await PostgresRelationships(conn).terms(tenant, settings.lifecycle_terms())
            goals = await tenant_goal_limit(conn, tenant)
        return (
            f"{tenant}: {terms.request_deadline.days} days to answer a request, fit check after "
            f"{terms.fit_check_after.days} days, {terms.open_requests_limit} open requests, "
            f"{goals or DEFAULT_MAX_OPEN_GOALS} open goals per mentee"
        )

    typer.echo(_with_pool(work))


@cli.command("import-csv")
def import_csv_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV export (UTF-8).")],
    tenant: Annotated[str, typer.Option(help="Tenant the profiles belong to.")],
    errors: Annotated[
        Path | None, typer.Option(help="Write a per-row error report (CSV) here.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Rows per transaction.")] = 500,
) -> None:
    """Import profiles from a CSV export; a re-run changes nothing. Exit 1 if rows failed."""
    from services.profile.adapters.postgres import PostgresUnitOfWork
    from services.profile.entrypoints.csv_import import BadHeader, ImportSummary, import_csv

    columns = (BarColumn(), TaskProgressColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=err) as progress:
        task = progress.add_task("import", total=file.stat().st_size)

        async def work(pool: asyncpg.Pool, settings: ProfileSettings) -> ImportSummary:
            uow = PostgresUnitOfWork(pool, settings.kafka.topic_prefix)
            report = errors.open("w", newline="", encoding="utf-8") if errors else None
            try:
                return await import_csv(
                    file,
                    tenant,
                    uow,
                    report,
                    lambda done: progress.update(task, completed=done),
                    batch_size,
                )
            finally:
                if report:
                    report.close()

        try:
            summary = _with_pool(work)
        except BadHeader as exc:
            typer.echo(f"cannot import {file}: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(summary.line())
    if summary.failed:
        where = f"; see {errors}" if errors else "; pass --errors FILE for details"
        typer.echo(f"{summary.failed} rows failed{where}", err=True)
        sys.exit(1)
