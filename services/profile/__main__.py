"""`python -m services.profile` / `mentorlink-profile`: see services/profile/entrypoints/cli.py."""

from __future__ import annotations

from services.profile.entrypoints.cli import cli


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
