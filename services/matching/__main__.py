"""`mentorlink-matching`: consume profiles and goals, rank mentors, propose."""

from __future__ import annotations

from services.matching.bootstrap import bootstrap
from services.matching.settings import SERVICE_NAME, MatchingSettings
from shared.runtime import run_http_service


def main() -> None:
    run_http_service(SERVICE_NAME, MatchingSettings(), bootstrap)


if __name__ == "__main__":
    main()
