"""A mentor with one free seat is shown to a lone mentee whatever the mentee's partition.

The repro of issue 26: one mentor (terraform 5, capacity 1) and one mentee with a terraform
goal, nobody else. The exposure budget (3 for one seat) used to be split over the six mentee
partitions, and the three partitions whose share rounded to 0 never showed the mentor: their
mentees got no email. Six such pairs, each in its own tenant, with mentees on all six
partitions: every mentee gets an email naming the mentor (perhaps after a waiting-list email,
when the goal reached matching before the mentor), through the public API, Kafka, PostgreSQL
and SMTP.
"""

from __future__ import annotations

import pytest

from devenv.smtp_sink import SmtpSink
from shared.kafka.partitioner import person_partitioner
from tests.support.mail import mails_saying
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.platform import running_platform
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e
PARTITIONS = 6  # the default topic layout, where the split left half the partitions nothing


def partition_of(user_id: str) -> int:
    return person_partitioner(user_id.encode(), range(PARTITIONS), range(PARTITIONS))


def one_mentee_per_partition(unique: str) -> list[str]:
    """Mentee ids whose keys fall on partitions 0..5, one each."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < PARTITIONS:
        found.setdefault(partition_of(f"mentee-{unique}-{n}"), f"mentee-{unique}-{n}")
        n += 1
    return [found[p] for p in range(PARTITIONS)]


async def test_a_lone_mentor_with_one_seat_is_proposed_to_a_lone_mentee_on_every_partition(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    mentees = one_mentee_per_partition(unique)
    mentor_id = f"mentor-{unique}"  # the same id in every tenant: the old split was the same
    mentor = mentor_body(
        "Terry Form", skills=[{"name": "terraform", "level": 5}], capacity=1, industries=[]
    )
    goal = goal_body(
        statement="Run our infrastructure with Terraform by the end of the quarter",
        target_skills=["terraform"],
        timeframe_months=3,
    )
    emails = {mentee_id: f"{mentee_id}@example.org" for mentee_id in mentees}
    async with running_platform(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, partitions=PARTITIONS
    ) as platform:
        http = platform.http
        for index, mentee_id in enumerate(mentees):
            tenant = f"pair{index}-{unique}"
            key = await platform.profile.api_keys.create(tenant, "tests")
            auth = {"Authorization": f"Bearer {key.token}"}
            response = await http.put(f"/v1/profiles/{mentor_id}", json=mentor, headers=auth)
            assert response.status_code == 200, response.text
            body = mentee_body(f"Mentee {index}", emails[mentee_id])
            response = await http.put(f"/v1/profiles/{mentee_id}", json=body, headers=auth)
            assert response.status_code == 200, response.text
            response = await http.put(f"/v1/profiles/{mentee_id}/goal", json=goal, headers=auth)
            assert response.status_code == 200, response.text

        def mailed() -> list[str]:
            return [m for m in mentees if mails_saying(smtp_sink, emails[m], "Terry Form")]

        try:
            await eventually(lambda: len(mailed()) == PARTITIONS, timeout=90, what="all emails")
        except AssertionError:
            missing = {m: partition_of(m) for m in mentees if m not in mailed()}
            raise AssertionError(f"no proposal email for (mentee: partition) {missing}") from None
