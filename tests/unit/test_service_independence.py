"""The import-linter contracts in pyproject.toml ([tool.importlinter]) hold.

They say: services never import each other, shared holds no service code, nothing depends on
devenv, domain layers import no I/O library or adapter, and what a match is (matching's
meaning modules) never depends on how it is searched fast.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(*config_files: str) -> subprocess.CompletedProcess[str]:
    """Run the `lint-imports` CLI (its console script is a thin wrapper over this) in ROOT."""
    code = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-logo", "--no-cache", *config_files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_contract_in_pyproject_is_kept() -> None:
    result = lint_imports()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for contract in CONTRACTS["contracts"]:
        assert f"{contract['name']} KEPT" in output, output
    assert f"Contracts: {len(CONTRACTS['contracts'])} kept, 0 broken." in output, output


def test_the_service_independence_contract_covers_every_service() -> None:
    services = sorted(
        f"services.{p.name}" for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists()
    )
    (independence,) = [c for c in CONTRACTS["contracts"] if c["type"] == "independence"]
    assert sorted(independence["modules"]) == services


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    """Guard against a check that can never fail: an import that exists must be reported."""
    text = (ROOT / "pyproject.toml").read_text()
    canary = tmp_path / "importlinter.toml"
    canary.write_text(
        text[text.index("[tool.importlinter]") :] + "\n[[tool.importlinter.contracts]]\n"
        'name = "Canary: matching handlers may not use the contracts"\n'
        'type = "forbidden"\n'
        'source_modules = ["services.matching.service_layer"]\n'
        'forbidden_modules = ["shared.contracts"]\n'
    )
    result = lint_imports(str(canary))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Canary: matching handlers may not use the contracts BROKEN" in output, output


def test_every_module_of_what_a_match_is_is_kept_apart_from_the_search() -> None:
    """A new module at the top of matching's domain is a meaning module: the contract that
    keeps the search out of them must name it."""
    domain = ROOT / "services" / "matching" / "domain"
    modules = sorted(
        f"services.matching.domain.{p.stem}" for p in domain.glob("*.py") if p.stem != "__init__"
    )
    (meaning,) = [c for c in CONTRACTS["contracts"] if c["name"].startswith("What a match is")]
    assert sorted(meaning["source_modules"]) == modules
    assert {"services.matching.domain.search", "services.matching.domain.engine"} <= set(
        meaning["forbidden_modules"]
    )
