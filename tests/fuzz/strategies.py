"""Hostile inputs: unicode edge cases, CR/LF, markup, SQL metacharacters, oversized values.

`hostile_text` and `json_values` feed both the event parsers and the HTTP endpoints;
`mutations` turns a valid document into a near-valid one, which reaches deeper validation
paths than random bytes do.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

MARKUP_AND_SQL = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }} {% raw %}",
    "'; DROP TABLE profiles; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM outbox; --",
    "$1 $$ E'\\x00' \\",
    "%s %d %n {0} ${jndi:ldap://x}",
    "Zoë Ångström 💩 עברית",
]
NASTY_STRINGS = [
    *MARKUP_AND_SQL,
    "Ada\r\nBcc: victim@example.org",
    "line\nbreak",
    "tab\tseparated",
    "nul\x00byte",
    "\x1b[31mred",
    "\u202eoverride",
    "\ufeffbom",
    "zero\u200bwidth",
    "\u2028line\u2029para",
    "a\u0301e\u0300",
    "\U0001d518\U0001d52b\U0001d526",  # fraktur letters
    "💩" * 40,
    "ﬁ ß ǅ İ",
    "עברית العربية",
    "   ",
    "",
    "\ud800",
    "a" * 121,
    "b" * 1001,
]

hostile_text = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=80),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Mn", "Cs"]), max_size=10),
    st.builds(lambda s, n: s * n, st.sampled_from(["A", "é", "<b>", "'"]), st.integers(1, 5000)),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)

json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(hostile_text, inner, max_size=5)
    ),
    max_leaves=20,
)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON document (dict keys and list indexes), the root included."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, head: _replace(document[head], rest, value)}
    copy = list(document)
    copy[head] = _replace(copy[head], rest, value)
    return copy


def _delete(document: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        if isinstance(document, dict):
            return {k: v for k, v in document.items() if k != path[0]}
        return [v for i, v in enumerate(document) if i != path[0]]
    return _replace(document, path[:-1], _delete(_at(document, path[:-1]), path[-1:]))


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutations(draw: st.DrawFn, valid: dict[str, Any], max_changes: int = 3) -> Any:
    """`valid` with a few values replaced, keys removed or added, or its type fields changed."""
    document: Any = valid
    for _ in range(draw(st.integers(1, max_changes))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add", "oversize"]))
        if action == "replace":
            document = _replace(document, path, draw(json_values))
        elif action == "delete" and path:
            document = _delete(document, path)
        elif action == "add" and isinstance(_at(document, path), dict):
            names = st.sampled_from(["event_type", "extra", "__proto__"])
            key = draw(st.one_of(hostile_text, names))
            document = _replace(document, path, {**_at(document, path), key: draw(json_values)})
        elif action == "oversize":
            document = _replace(document, path, [draw(scalars)] * draw(st.integers(50, 3000)))
    return document


def envelope_variants(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Unknown event types and schema versions, plus the document as it was."""
    return st.one_of(
        st.just(valid),
        st.builds(
            lambda t: {**valid, "event_type": t},
            st.one_of(st.sampled_from(["ProfileRenamed", "profileupdated", ""]), hostile_text),
        ),
        st.builds(
            lambda v: {**valid, "schema_version": v},
            st.one_of(st.integers(-5, 10), st.sampled_from(["1", 1.0, 1.5, None, True])),
        ),
    )


def as_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


def raw_bodies(valid: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Bytes a broken or hostile producer might send, mostly close to `valid`."""
    text = json.dumps(valid)
    return st.one_of(
        mutations(valid).map(as_bytes),
        envelope_variants(valid).map(as_bytes),
        json_values.map(as_bytes),
        st.binary(max_size=200),
        st.integers(0, len(text)).map(lambda n: text[:n].encode()),
        st.builds(lambda d: b"[" * d + b"]" * d, st.integers(1, 5000)),
        st.builds(lambda n: as_bytes({**valid, "pad": "x" * n}), st.integers(1, 2_000_000)),
    )
