"""`python -m services.profile` / `mentorlink-profile`: serve the API, or manage API keys."""

from __future__ import annotations

import asyncio

import typer

from services.profile.bootstrap import bootstrap
from services.profile.settings import SERVICE_NAME, ProfileSettings
from shared.runtime import run_http_service

cli = typer.Typer(help="Mentorlink profile service.", no_args_is_help=False, add_completion=False)
keys = typer.Typer(help="Tenant API keys.")
cli.add_typer(keys, name="keys")


@cli.callback(invoke_without_command=True)
def serve(ctx: typer.Context) -> None:
    """Serve the profile API (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    run_http_service(SERVICE_NAME, ProfileSettings(), bootstrap)


@keys.command("create")
def create_key(
    tenant: str = typer.Option(..., help="Tenant id the key is scoped to."),
    label: str = typer.Option("", help="What the key is for."),
) -> None:
    """Create an API key; its secret is printed once and stored only as a hash."""
    from services.profile.adapters.api_keys import ApiKeys
    from services.profile.bootstrap import MIGRATIONS
    from services.profile.settings import SCHEMA
    from shared.db.migrations import apply_migrations
    from shared.db.pool import create_pool

    settings = ProfileSettings()

    async def main() -> None:
        pool = await create_pool(settings.db, SCHEMA)
        try:
            await apply_migrations(pool, SCHEMA, MIGRATIONS)
            issued = await ApiKeys(pool).create(tenant, label)
        finally:
            await pool.close()
        typer.echo(issued.token)

    asyncio.run(main())


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
