"""One row of an HRIS export as a profile: the CSV format of `mentorlink-profile import-csv`.

Lists are separated by `;`. Skills are `name:level` (level 1-5), background attributes are
`dimension=value`. Empty cells take the contract's defaults. docs/integrators.md has an example.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shared.contracts.profiles import ProfileFields
from shared.contracts.types import UserId

COLUMNS = (
    "user_id",
    "roles",
    "display_name",
    "email",
    "headline",
    "skills",
    "years_experience",
    "industries",
    "functions",
    "languages",
    "timezone",
    "mentoring_styles",
    "capacity",
    "availability",
    "opted_in",
    "manager_id",
    "background",
)
REQUIRED = ("user_id", "roles", "display_name")
EXTRA_CELLS = "__extra__"
SEPARATOR = ";"
_USER_ID: TypeAdapter[str] = TypeAdapter(UserId)


@dataclass(frozen=True)
class CellError:
    field: str
    message: str


class RowInvalid(Exception):  # noqa: N818 - reads as a verdict
    def __init__(self, errors: Sequence[CellError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = tuple(errors)


def header_problems(header: Sequence[str] | None) -> list[str]:
    """Why a header cannot be imported (missing columns, unknown or repeated ones)."""
    names = list(header or [])
    problems = [f"missing column {c!r}" for c in REQUIRED if c not in names]
    problems += [f"unknown column {c!r}" for c in names if c not in COLUMNS]
    problems += [f"repeated column {c!r}" for c in sorted({c for c in names if names.count(c) > 1})]
    return problems


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(SEPARATOR) if item.strip()]


def _skill(item: str) -> dict[str, str]:
    name, _, level = item.rpartition(":")
    return {"name": name, "level": level} if name else {"name": item}


def _pair(item: str) -> tuple[str, str]:
    dimension, sep, value = item.partition("=")
    if not sep:
        raise ValueError(f"{item!r} is not dimension=value")
    return dimension.strip(), value.strip()


def _slot(item: str) -> dict[str, str]:
    """`0 17:00-19:00`: weekday (0 = Monday) and a window."""
    weekday, _, window = item.partition(" ")
    start, _, end = window.partition("-")
    return {"weekday": weekday, "start": start.strip(), "end": end.strip()}


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "roles": _items,
    "industries": _items,
    "functions": _items,
    "languages": _items,
    "mentoring_styles": _items,
    "skills": lambda cell: [_skill(i) for i in _items(cell)],
    "availability": lambda cell: [_slot(i) for i in _items(cell)],
    "background": lambda cell: dict(_pair(i) for i in _items(cell)),
}


def _fields(row: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    errors = []
    for column, cell in row.items():
        if column == "user_id" or not (cell or "").strip():
            continue
        try:
            fields[column] = _CONVERTERS.get(column, str.strip)(cell)
        except ValueError as exc:
            errors.append(CellError(column, str(exc)))
    if errors:
        raise RowInvalid(errors)
    return fields


def _validation_errors(exc: ValidationError, prefix: str = "") -> list[CellError]:
    return [
        CellError(prefix + ".".join(map(str, e["loc"])) or "row", e["msg"])
        for e in exc.errors(include_url=False, include_input=False)
    ]


def parse_row(row: dict[str, Any]) -> tuple[str, ProfileFields]:
    """The row's user id and profile; raises `RowInvalid` naming every bad cell."""
    if row.get(EXTRA_CELLS):
        raise RowInvalid([CellError("row", "more cells than the header has columns")])
    if None in row.values():
        raise RowInvalid([CellError("row", "fewer cells than the header has columns")])
    try:
        user_id = _USER_ID.validate_python((row.get("user_id") or "").strip())
    except ValidationError as exc:
        raise RowInvalid(_validation_errors(exc, "user_id")) from None
    try:
        return user_id, ProfileFields.model_validate(_fields(row))
    except ValidationError as exc:
        raise RowInvalid(_validation_errors(exc)) from None
