"""Goal clarity: a goal says what the mentee wants to be able to do, not only "be better".

The contract already requires target skills or areas (at least one) and a timeframe. On top of
that the statement is read for concreteness (the rule is documented in docs/integrators.md):

- concrete: it names one of the goal's target skills, industries or functions, or it contains a
  number that quantifies the goal: a count ("2 talks", "three juniors"), a measure ("30%"), a
  date or a deadline ("by June", "within six months"). A number word that quantifies nothing
  ("one day", "number one", "one of the best", "no one") does not count;
- vague: it names none of these. A vague goal is rejected with suggestions;
- loaded words ("better", "successful", "manage", ...) in a concrete statement are accepted,
  with a warning that says what to make specific.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.contracts.goals import GoalFields

_LOADED_WORDS: dict[str, str] = {
    "better": "Better at what, and how would you notice? Name the skill and a visible result.",
    "improve": "Improve what, from where to where? Name the skill and a visible result.",
    "success": "What does success mean to you? Name the result that would show it "
    "(a launch, a role, a number).",
    "manage": "Manage what or whom? For example 'run weekly one-to-ones for my team of five'.",
    "effective": "Effective in which situation, and measured how?",
    "grow": "Grow in which skill or towards which role?",
    "good": "What would 'good' look like? Describe the outcome you want.",
    "great": "What would 'great' look like? Describe the outcome you want.",
    "career": "Which role, level or move do you want next?",
}
_VARIANTS: dict[str, str] = {
    "best": "better",
    "improved": "improve",
    "improving": "improve",
    "successful": "success",
    "successfully": "success",
    "succeed": "success",
    "managing": "manage",
    "management": "manage",
    "effectively": "effective",
    "growth": "grow",
    "growing": "grow",
}
_NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"}
    | {"twelve", "twenty", "thirty", "fifty", "hundred", "dozen", "twice"}
    | {"first", "second", "third"}
)
_TIME_UNITS = frozenset({"day", "week", "month", "quarter", "year"})
_MONTHS = frozenset(
    {"january", "february", "march", "april", "may", "june", "july", "august", "september"}
    | {"october", "november", "december"}
)
# Words before a deadline or a date: "by june", "within one week", "every two weeks".
_DEADLINE_WORDS = frozenset({"by", "within", "in", "before", "until", "for", "over", "every"})
# A number word followed by one of these quantifies nothing: "one day" (some day), "one of the
# best", "one another", "one more", "one-to-one", or it ends the statement ("the best one").
_NOT_QUANTIFIED = frozenset(
    {"day", "of", "another", "more", "thing", "way", "point", "time", "to", "and", "or", "who"}
    | {"that", "which", "if", "is", "was", "than", "place", "nature"}
)
# ... nor one in these pairs with the word before it: "no one", "number one", "at first".
_IDIOMS = frozenset(
    {("no", "one"), ("the", "one"), ("number", "one"), ("any", "one"), ("every", "one")}
    | {("each", "one"), ("at", "first"), ("some", "one")}
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class GoalAdvice:
    """One piece of advice: the wording it is about (may be empty) and what to do."""

    term: str
    suggestion: str


@dataclass(frozen=True)
class GoalAssessment:
    concrete: bool
    advice: tuple[GoalAdvice, ...]


class VagueGoal(Exception):  # noqa: N818 - reads as a verdict
    """The statement names nothing concrete; `advice` says what to make specific."""

    def __init__(self, advice: tuple[GoalAdvice, ...]) -> None:
        super().__init__("the goal statement names nothing concrete")
        self.advice = advice


def _as_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])")


def _is_time_unit(word: str) -> bool:
    return word in _TIME_UNITS or (word.endswith("s") and word[:-1] in _TIME_UNITS)


def _quantifies(words: list[str], i: int) -> bool:
    """Whether words[i] is a number, date or measure that quantifies the goal."""
    word = words[i]
    before = words[i - 1] if i > 0 else ""
    after = words[i + 1] if i + 1 < len(words) else ""
    if any(c.isdigit() for c in word):  # "2 talks", "30%", "2027", "q3"
        return True
    if word in _MONTHS:
        return before in _DEADLINE_WORDS  # "by june", not "may I ..."
    if word not in _NUMBER_WORDS or (before, word) in _IDIOMS or not after:
        return False
    if _is_time_unit(after):  # "within one week", "two years", but not "one day"
        return after.endswith("s") or before in _DEADLINE_WORDS
    return after not in _NOT_QUANTIFIED


def _has_number(words: list[str]) -> bool:
    return any(_quantifies(words, i) for i in range(len(words)))


def _loaded_words(words: list[str]) -> tuple[GoalAdvice, ...]:
    found: dict[str, GoalAdvice] = {}
    for word in words:
        root = _VARIANTS.get(word, word)
        if root in _LOADED_WORDS and root not in found:
            found[root] = GoalAdvice(word, _LOADED_WORDS[root])
    return tuple(found.values())


def _how_to_be_concrete(goal: GoalFields) -> tuple[GoalAdvice, ...]:
    areas = ", ".join(goal.target_skills[:3])
    return (
        GoalAdvice("", f"Name the skill or area you want to work on, e.g. {areas}."),
        GoalAdvice(
            "",
            f"Say what result would show you got there within {goal.timeframe_months} "
            "months, with a number if you can (e.g. 'give 2 talks', 'ship the migration').",
        ),
    )


def assess_goal(goal: GoalFields) -> GoalAssessment:
    text = goal.statement.lower()
    areas = [_as_word(a) for a in (*goal.target_skills, *goal.target_industries)]
    areas += [_as_word(a) for a in goal.target_functions]
    named = [area for area in areas if area.search(text)]
    for area in named:  # "product management" names an area; its "management" is not loaded
        text = area.sub(" ", text)
    words = _WORD.findall(text)
    concrete = bool(named) or _has_number(words)
    loaded = _loaded_words(words)
    return GoalAssessment(concrete, loaded if concrete else loaded + _how_to_be_concrete(goal))


def require_clear_goal(goal: GoalFields) -> tuple[GoalAdvice, ...]:
    """The warnings for an acceptable goal; raises `VagueGoal` for one that names nothing."""
    assessment = assess_goal(goal)
    if not assessment.concrete:
        raise VagueGoal(assessment.advice)
    return assessment.advice
