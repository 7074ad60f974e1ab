"""`mentorlink-notifications`: consume proposals, email mentees."""

from __future__ import annotations

from services.notifications.bootstrap import bootstrap
from services.notifications.settings import SERVICE_NAME, NotificationsSettings
from shared.runtime import run_http_service
from shared.startup import settings_or_exit


def main() -> None:
    run_http_service(SERVICE_NAME, settings_or_exit(SERVICE_NAME, NotificationsSettings), bootstrap)


if __name__ == "__main__":
    main()
