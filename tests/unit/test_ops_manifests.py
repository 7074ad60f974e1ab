"""The manifest check passes the committed manifests and fails broken ones."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"


def _validator() -> ModuleType:
    path = ROOT / "deploy" / "tools" / "validate_manifests.py"
    spec = importlib.util.spec_from_file_location("validate_manifests", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


validator = _validator()


def _base_docs() -> list[dict[str, Any]]:
    """The base's resources as listed in its kustomization (the base has no patches)."""
    listed = yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    return [d for name in listed for d in yaml.safe_load_all((BASE / name).read_text()) if d]


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_the_committed_manifests_are_valid() -> None:
    docs = _base_docs()
    assert {d["kind"] for d in docs} >= {"Deployment", "ScaledObject", "PodDisruptionBudget"}
    assert list(validator.problems(docs)) == []


def _misspelt_probe(docs: list[dict[str, Any]]) -> None:
    container = _find(docs, "Deployment", "mentorlink-matching")["spec"]["template"]["spec"]
    container = container["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")


def _unknown_keda_field(docs: list[dict[str, Any]]) -> None:
    _find(docs, "ScaledObject", "mentorlink-notifications")["spec"]["maxReplicas"] = 3


def _more_replicas_than_partitions(docs: list[dict[str, Any]]) -> None:
    _find(docs, "ScaledObject", "mentorlink-matching")["spec"]["maxReplicaCount"] = 13


def _wrong_type(docs: list[dict[str, Any]]) -> None:
    _find(docs, "PodDisruptionBudget", "mentorlink-profile")["spec"]["selector"] = "profile"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_misspelt_probe, "readinesProbe"),
        (_unknown_keda_field, "maxReplicas"),
        (_more_replicas_than_partitions, "maxReplicaCount 13 > KAFKA_PARTITIONS 12"),
        (_wrong_type, "selector"),
    ],
)
def test_a_broken_manifest_is_reported(breakage: Any, expected: str) -> None:
    docs = copy.deepcopy(_base_docs())
    breakage(docs)
    found = list(validator.problems(docs))
    assert any(expected in problem for problem in found), found


def test_the_script_exits_non_zero_on_a_broken_file(tmp_path: Path) -> None:
    docs = _base_docs()
    _misspelt_probe(docs)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all(docs))
    assert validator.main([str(broken)]) == 1
