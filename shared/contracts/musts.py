"""Must-have criteria: what a mentor must offer to be proposed at all, beside the weights."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.types import LanguageCode, MentoringStyle, Slug


class Musts(BaseModel):
    """Each listed value is required: a mentor lacking any one of them is never proposed.
    Empty lists (the default) require nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    languages: list[LanguageCode] = Field(
        default_factory=list,
        max_length=3,
        description="The mentor must speak every one of these languages.",
        examples=[["de"]],
    )
    industries: list[Slug] = Field(
        default_factory=list,
        max_length=3,
        description="The mentor must have worked in every one of these industries.",
        examples=[["fintech"]],
    )
    styles: list[MentoringStyle] = Field(
        default_factory=list,
        max_length=3,
        description="The mentor must offer every one of these mentoring styles.",
        examples=[["sounding_board"]],
    )

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        for name in ("languages", "industries", "styles"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} must not repeat")
        return self

    def pairs(self) -> list[tuple[str, str]]:
        """(kind, value) for each required value, kinds named as in a mentor's profile."""
        return [
            *(("languages", v) for v in self.languages),
            *(("industries", v) for v in self.industries),
            *(("styles", str(v)) for v in self.styles),
        ]


_REQUIREMENTS = {
    "languages": "speaks {}",
    "industries": "has worked in {}",
    "styles": "offers {} as a mentoring style",
}


def requirement(kind: str, value: str) -> str:
    """A must as the mentor's side of it, in words: 'speaks de' (emails and explanations)."""
    return _REQUIREMENTS[kind].format(value.replace("_", " "))
