"""The CSV import format: cells to a profile, and errors that name the cell."""

from __future__ import annotations

import pytest

from services.profile.entrypoints.csv_rows import (
    COLUMNS,
    EXTRA_CELLS,
    RowInvalid,
    header_problems,
    parse_row,
)


def row(**cells: str) -> dict[str, str]:
    base = {"user_id": "u-1", "roles": "mentor", "display_name": "Grace Hopper"}
    return {**base, **cells}


def test_a_full_row_becomes_a_profile() -> None:
    user_id, fields = parse_row(
        row(
            roles="mentor; mentee",
            email="grace@example.org",
            skills="Kubernetes:5;go:4",
            years_experience="15",
            industries="fintech;banking",
            languages="en;pt-BR",
            timezone="Europe/Berlin",
            mentoring_styles="coaching",
            capacity="3",
            availability="0 17:00-19:00;2 08:00-09:30",
            opted_in="no",
            manager_id="u-boss",
            background="education=first generation graduate;career path=career changer",
        )
    )
    assert user_id == "u-1"
    assert [(s.name, s.level) for s in fields.skills] == [("kubernetes", 5), ("go", 4)]
    assert fields.roles == ["mentor", "mentee"]
    assert fields.languages == ["en", "pt-br"]
    assert fields.opted_in is False and fields.capacity == 3
    assert fields.availability[1].weekday == 2
    assert fields.background == {
        "education": "first generation graduate",
        "career path": "career changer",
    }


def test_empty_cells_take_the_defaults() -> None:
    _, fields = parse_row(row(email="", skills="", capacity="", timezone=""))
    assert fields.email is None and fields.skills == [] and fields.capacity == 0
    assert fields.timezone == "UTC" and fields.opted_in is True


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"user_id": "bad id!"}, "user_id"),
        ({"roles": "boss"}, "roles.0"),
        ({"skills": "kubernetes"}, "skills.0.level"),
        ({"skills": "kubernetes:9"}, "skills.0.level"),
        ({"email": "not-an-address"}, "email"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"background": "no equals sign"}, "background"),
        ({"display_name": "Evil\r\nBcc: x@y.z"}, "display_name"),
        ({"capacity": "many"}, "capacity"),
    ],
)
def test_an_invalid_cell_is_named_in_the_error(cells: dict[str, str], field: str) -> None:
    with pytest.raises(RowInvalid) as caught:
        parse_row(row(**cells))
    assert field in [e.field for e in caught.value.errors]


def test_rows_with_too_many_or_too_few_cells_are_refused() -> None:
    with pytest.raises(RowInvalid, match="more cells"):
        parse_row({**row(), EXTRA_CELLS: ["x"]})  # type: ignore[dict-item]
    with pytest.raises(RowInvalid, match="fewer cells"):
        parse_row({**row(), "email": None})  # type: ignore[dict-item]


def test_header_problems_name_missing_unknown_and_repeated_columns() -> None:
    assert header_problems(list(COLUMNS)) == []
    problems = header_problems(["user_id", "roles", "roles", "salary"])
    assert problems == [
        "missing column 'display_name'",
        "unknown column 'salary'",
        "repeated column 'roles'",
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("user_id", "u-\x001"),
        ("display_name", "Grace\x00Hopper"),
        ("headline", "Staff\x00engineer"),
        ("email", "grace\x00@example.org"),
        ("skills", "kube\x00rnetes:5"),
        ("industries", "fin\x00tech"),
        ("timezone", "Europe/Berlin\x00"),
        ("manager_id", "u-\x00boss"),
        ("background", "education=first\x00generation graduate"),
    ],
)
def test_a_nul_in_any_cell_is_an_error_naming_its_column(column: str, value: str) -> None:
    """PostgreSQL text cannot hold U+0000: the row is refused before it gets there."""
    with pytest.raises(RowInvalid) as refused:
        parse_row(row(**{column: value}))
    assert {e.field.split(".")[0] for e in refused.value.errors} == {column}
