"""Validate rendered Kubernetes manifests offline; exit 1 naming every problem.

- Kubernetes kinds: the JSON schemas bundled in the `kubernetes-validate` wheel, strict
  (an unknown field is an error, so a misspelt `readinessProbe` cannot pass silently).
- KEDA kinds: the CRD schemas in deploy/schemas/keda (update_keda_schemas.py), made strict the
  same way.
- Mentorlink rules: every container has liveness and readiness probes and resource requests;
  every ScaledObject's maxReplicaCount is at most KAFKA_PARTITIONS.

    uv run python deploy/tools/validate_manifests.py rendered.yaml [more.yaml ...]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.33.0"
KEDA_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "keda"


def strict(schema: Any) -> Any:
    """Refuse properties an object schema does not declare (as `kubeconform -strict` does)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def keda_errors(doc: dict[str, Any]) -> list[str]:
    version = doc["apiVersion"].split("/")[-1]
    path = KEDA_SCHEMAS / f"{doc['kind'].lower()}_{version}.json"
    if not path.exists():
        return [f"no schema for {doc['kind']} {doc['apiVersion']} in {KEDA_SCHEMAS}"]
    validator = jsonschema.Draft7Validator(strict(json.loads(path.read_text())))
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def kubernetes_errors(doc: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(map(str, error.path))
        return [f"{where}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [str(error)]
    return []


def containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
        yield from doc["spec"]["template"]["spec"].get("containers", [])


def mentorlink_errors(doc: dict[str, Any], partitions: int | None) -> list[str]:
    errors = []
    for container in containers(doc):
        for field in ("livenessProbe", "readinessProbe"):
            if field not in container:
                errors.append(f"container {container['name']}: no {field}")
        if "requests" not in container.get("resources", {}):
            errors.append(f"container {container['name']}: no resource requests")
    if doc["kind"] == "ScaledObject" and partitions is not None:
        most = doc["spec"].get("maxReplicaCount", 100)
        if most > partitions:
            errors.append(f"maxReplicaCount {most} > KAFKA_PARTITIONS {partitions}")
    return errors


def kafka_partitions(docs: list[dict[str, Any]]) -> int | None:
    for doc in docs:
        if doc["kind"] == "ConfigMap" and "KAFKA_PARTITIONS" in doc.get("data", {}):
            return int(doc["data"]["KAFKA_PARTITIONS"])
    return None


def problems(docs: list[dict[str, Any]]) -> Iterator[str]:
    partitions = kafka_partitions(docs)
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if not doc.get("apiVersion") or not doc.get("kind"):
            yield f"{name}: no apiVersion or kind"
            continue
        is_keda = doc["apiVersion"].startswith("keda.sh/")
        found = keda_errors(doc) if is_keda else kubernetes_errors(doc)
        found += mentorlink_errors(doc, partitions)
        yield from (f"{name}: {error}" for error in found)


def main(paths: list[str]) -> int:
    docs = [d for p in paths for d in yaml.safe_load_all(Path(p).read_text()) if d]
    if not docs:
        print("no manifests found", file=sys.stderr)
        return 1
    found = list(problems(docs))
    for problem in found:
        print(f"INVALID {problem}", file=sys.stderr)
    kinds = sorted({d["kind"] for d in docs if d.get("kind")})
    print(f"{len(docs)} manifests ({', '.join(kinds)}): {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
