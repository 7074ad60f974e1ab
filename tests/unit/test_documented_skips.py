"""The tests that may be skipped are exactly the ones docs/testing.md lists, for the same needs.

A skip can only come from the `broker_feature` and `needs_tool` markers (tests/support/limits.py),
so reading the markers from the test files finds every possible skip."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support import limits

ROOT = Path(__file__).resolve().parents[2]
MARKERS = {"broker_feature", "needs_tool"}
ROW = re.compile(r"^\|\s*`(?P<test>tests/[^`]+)`\s*\|\s*`(?P<marker>\w+)\((?P<name>\w+)\)`\s*\|")


def marked_tests() -> set[tuple[str, str, str]]:
    found = set()
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in MARKERS
                ):
                    for arg in decorator.args:
                        assert isinstance(arg, ast.Constant), f"{path}: a marker takes a literal"
                        test = f"{path.relative_to(ROOT)}::{node.name}"
                        found.add((test, decorator.func.attr, str(arg.value)))
    return found


def documented() -> set[tuple[str, str, str]]:
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    return {
        (m["test"], m["marker"], m["name"]) for line in text.splitlines() if (m := ROW.match(line))
    }


def test_every_possible_skip_is_documented_and_every_documented_one_exists() -> None:
    assert marked_tests() == documented()


def test_every_marker_names_a_known_limit_or_tool() -> None:
    for _, marker, name in marked_tests():
        known = limits.EMBEDDED_BROKER_LIMITS if marker == "broker_feature" else limits.TOOLS
        assert name in known, f"{marker}({name}) is not in tests/support/limits.py"


def test_the_module_level_skips_are_none() -> None:
    """No file skips itself wholesale (pytest.skip at import, skipif on a module)."""
    for path in (ROOT / "tests").rglob("test_*.py"):
        if path == Path(__file__).resolve():
            continue
        source = path.read_text(encoding="utf-8")
        assert "allow_module_level" not in source, path
        assert "mark.skipif" not in source and "mark.skip(" not in source, path


def test_no_test_skips_itself() -> None:
    """A skip inside a test body would escape the table above: the markers say it instead."""
    for path in (ROOT / "tests").rglob("test_*.py"):
        if path == Path(__file__).resolve():
            continue
        assert "pytest.skip(" not in path.read_text(encoding="utf-8"), path
