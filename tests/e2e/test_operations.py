"""What operators see: /readyz with partitions assigned, /metrics counting the real flow."""

from __future__ import annotations

import pytest

from devenv.smtp_sink import SmtpSink
from shared.settings import TracingSettings
from shared.tracing import memory_exporter
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.platform import running_platform
from tests.support.polling import eventually
from tests.support.scrape import sample, scrape

pytestmark = pytest.mark.e2e


async def test_readiness_and_metrics_follow_a_goal_to_an_email(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    email = f"ops-{unique}@example.org"
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        http, auth = platform.http, platform.auth
        await http.put(f"/v1/profiles/m-{unique}", json=mentor_body(), headers=auth)
        await http.put(f"/v1/profiles/x-{unique}", json=mentee_body("Ops", email), headers=auth)
        await http.put(f"/v1/profiles/x-{unique}/goal", json=goal_body(), headers=auth)
        await eventually(lambda: smtp_sink.messages(to=email), timeout=60, what="the email")

        apps = {
            "profile": platform.profile.app,
            "matching": platform.matching.app,
            "notifications": platform.notifications.app,
        }
        for name, app in apps.items():
            ready = await scrape(app, "/readyz")
            assert ready.status_code == 200, (name, ready.text)
            assert ready.json()["checks"]["partitions"] is True, ready.json()

        async def counted() -> bool:
            matching = (await scrape(apps["matching"], "/metrics")).text
            notifications = (await scrape(apps["notifications"], "/metrics")).text
            goals = f"{topic_prefix}goals"
            return (
                sample(matching, "mentorlink_events_consumed_total", topic=goals, outcome="ok") >= 1
                and sample(matching, "mentorlink_ranking_recomputes_total", service="matching") >= 1
                and sample(matching, "mentorlink_matching_mentors", service="matching") == 1
                and sample(notifications, "mentorlink_emails_total", outcome="sent") >= 1
                and f'topic="{topic_prefix}proposals"' in matching
            )

        await eventually(counted, timeout=30, what="the flow in the metrics")
        profile = (await scrape(apps["profile"], "/metrics")).text
        assert sample(profile, "mentorlink_outbox_backlog", service="profile") == 0
        matching = (await scrape(apps["matching"], "/metrics")).text
        assert "mentorlink_event_processing_seconds_bucket" in matching


async def test_one_trace_follows_a_request_from_the_api_to_the_email_service(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    email = f"trace-{unique}@example.org"
    tracing = TracingSettings(enabled=True, exporter="memory")
    async with running_platform(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, tracing=tracing
    ) as platform:
        http, auth = platform.http, platform.auth
        memory_exporter().clear()  # only traces of this test's requests from here on
        await http.put(f"/v1/profiles/m-{unique}", json=mentor_body(), headers=auth)
        await http.put(f"/v1/profiles/x-{unique}", json=mentee_body("Trace", email), headers=auth)
        await http.put(f"/v1/profiles/x-{unique}/goal", json=goal_body(), headers=auth)
        await eventually(lambda: smtp_sink.messages(to=email), timeout=60, what="the email")

        def services_in_the_emails_trace() -> set[str]:
            """Services in the trace that reached notifications (whichever request caused it)."""
            spans = memory_exporter().get_finished_spans()
            by_trace: dict[int, set[str]] = {}
            for span in spans:
                service = str(span.resource.attributes["service.name"])
                by_trace.setdefault(span.context.trace_id, set()).add(service)
            reached = [s for s in by_trace.values() if "mentorlink-notifications" in s]
            return max(reached, key=len, default=set())

        expected = {"mentorlink-profile", "mentorlink-matching", "mentorlink-notifications"}
        await eventually(
            lambda: services_in_the_emails_trace() >= expected, timeout=30, what="one trace"
        )
