"""Small files and classes: every file in services/ under 400 lines, no class over 250."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"
MAX_FILE_LINES = 399
MAX_CLASS_LINES = 250


def sizes() -> tuple[dict[str, int], dict[str, int]]:
    files, classes = {}, {}
    for path in sorted(SERVICES.rglob("*.py")):
        text = path.read_text()
        name = str(path.relative_to(SERVICES.parent))
        files[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                classes[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return files, classes


def test_every_file_in_services_is_under_400_lines() -> None:
    files, _ = sizes()
    assert len(files) > 50  # it found the services
    over = {name: n for name, n in files.items() if n > MAX_FILE_LINES}
    assert over == {}


def test_no_class_in_services_is_over_250_lines() -> None:
    _, classes = sizes()
    assert any(n > 100 for n in classes.values())  # it measured real classes
    assert {name: n for name, n in classes.items() if n > MAX_CLASS_LINES} == {}
