"""Requests for every operation an app's OpenAPI document declares, valid or hostile.

Operations are discovered from `app.openapi()`, so an endpoint added tomorrow is fuzzed
without touching this suite. Bodies and parameters come from the declared JSON Schemas
(examples first, then generated values), then some are mutated with hostile values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from hypothesis import strategies as st

from tests.fuzz.strategies import MARKUP_AND_SQL, hostile_text, json_values, mutations

METHODS = ("get", "put", "post", "patch", "delete")
MAX_ITEMS = 4
RECURRING_IDS = ["u-1", "u-2", "mentee-1"]


@dataclass(frozen=True)
class Operation:
    app: str
    method: str
    path: str
    parameters: tuple[dict[str, Any], ...] = field(repr=False)
    body_schema: dict[str, Any] | None = field(repr=False)
    response_schema: dict[str, Any] | None = field(repr=False)
    media_types: tuple[str, ...] = field(repr=False)  # of the success answer
    spec: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        return f"{self.method.upper()} {self.app}{self.path}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' failure report
        printer.text(repr(self))


def operations(name: str, app: FastAPI) -> list[Operation]:
    spec = app.openapi()
    found = []
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            ok = operation.get("responses", {}).get("200", {}).get("content", {})
            found.append(
                Operation(
                    app=name,
                    method=method,
                    path=path,
                    parameters=tuple(operation.get("parameters", ())),
                    body_schema=body.get("schema") if body else None,
                    response_schema=ok.get("application/json", {}).get("schema"),
                    media_types=tuple(ok),
                    spec=spec,
                )
            )
    return found


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def from_schema(schema: dict[str, Any], spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema allows (mostly): its examples, or values generated from its rules."""
    schema = _resolve(schema, spec)
    generated = _generate(schema, spec)
    if examples := schema.get("examples"):
        return st.one_of(st.sampled_from(examples), generated)
    return generated


def _generate(schema: dict[str, Any], spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return st.one_of(*(from_schema(s, spec) for s in schema[combinator]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(schema, spec)
    if kind == "array":
        items = from_schema(schema.get("items", {}), spec)
        size = min(schema.get("maxItems", MAX_ITEMS), MAX_ITEMS)
        return st.lists(items, min_size=min(schema.get("minItems", 0), size), max_size=size)
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return json_values


def _object(schema: dict[str, Any], spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = st.fixed_dictionaries(
        {k: from_schema(v, spec) for k, v in properties.items() if k in required},
        optional={k: from_schema(v, spec) for k, v in properties.items() if k not in required},
    )
    extra = schema.get("additionalProperties")
    if not isinstance(extra, dict):
        return fixed
    keys = from_schema({"type": "string", **schema.get("propertyNames", {})}, spec)
    more = st.dictionaries(keys, from_schema(extra, spec), max_size=3)
    return st.builds(lambda a, b: {**b, **a}, fixed, more)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 60)
    fmt = schema.get("format")
    if fmt == "email":
        return st.emails()
    if fmt == "uuid":
        return st.uuids().map(str)
    if fmt == "date-time":
        return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    if fmt == "time":
        return st.times().map(lambda t: t.isoformat())
    if pattern := schema.get("pattern"):
        # In Python `$` also matches before a final newline; the server's regex does not.
        pattern = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
        return st.from_regex(pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
    printable = st.characters(exclude_categories=["Cc", "Cs"])  # hostile_text has those
    markup = st.sampled_from(MARKUP_AND_SQL)
    return st.one_of(markup, st.text(printable, min_size=max(low, 1), max_size=min(high, 60)))


def hostile(schema: dict[str, Any], spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Near-valid mutations of allowed values, and arbitrary JSON."""
    valid = from_schema(schema, spec)
    near = valid.flatmap(lambda v: mutations(v) if isinstance(v, dict | list) else hostile_text)
    return st.one_of(near, json_values)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    body: Any

    def __repr__(self) -> str:
        content = self.content if self.content is None or len(self.content) < 500 else "<large>"
        return f"{self.method} {self.url} {self.headers} {content!r}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
# One part of a request is hostile at a time, so the others stay valid and the hostile part
# reaches the code behind validation; "none" sends a request meant to succeed.
HOSTILE_PARTS = ("none", "none", "path", "parameters", "body", "body", "encoding", "auth")


def _path_value(schema: dict[str, Any], spec: dict[str, Any], hostile_part: bool) -> Any:
    if hostile_part:
        return st.one_of(from_schema(schema, spec), hostile_text)
    # A few ids recur, so later requests find what earlier ones stored.
    return st.one_of(st.sampled_from(RECURRING_IDS), from_schema(schema, spec))


def _parameter(
    parameter: dict[str, Any], spec: dict[str, Any], hostile_part: bool
) -> st.SearchStrategy[str]:
    schema = _resolve(parameter.get("schema", {}), spec)
    if parameter["in"] == "path":
        return _path_value(schema, spec, hostile_part).map(str)
    values = from_schema(schema, spec).map(str)
    if hostile_part:
        values = st.one_of(values, _HEADER_TEXT if parameter["in"] == "header" else hostile_text)
    if parameter["in"] == "header":  # what an HTTP client can send at all
        return values.filter(lambda v: v.isascii() and v.isprintable())
    return values


OVERSIZED_BODY = b'{"' + b"x" * 2_000_000 + b'": 1}'


def _encoded(body: Any, hostile_part: bool) -> st.SearchStrategy[bytes]:
    if hostile_part:
        return st.one_of(st.binary(max_size=50), st.just(OVERSIZED_BODY))
    return st.just(json.dumps(body).encode())


def _authorization(auth: str, hostile_part: bool) -> st.SearchStrategy[str]:
    if hostile_part:
        return st.one_of(
            st.sampled_from(["Bearer ml_nope", "", "Basic x", auth + "x"]), _HEADER_TEXT
        )
    return st.just(auth)


def _escaped(value: str) -> str:
    """Percent-encoded UTF-8, lone surrogates included (an HTTP client would refuse them)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def requests(draw: st.DrawFn, operation: Operation, auth: str) -> Request:
    """A request for `operation`; `auth` is a valid Authorization value."""
    hostile_part = draw(st.sampled_from(HOSTILE_PARTS))
    path, headers, params = operation.path, {}, {}
    for parameter in operation.parameters:
        name, where = parameter["name"], parameter["in"]
        if where == "header" and name.lower() == "authorization":
            continue  # set below, for every operation
        if where != "path" and not parameter.get("required") and draw(st.booleans()):
            continue
        hostile_here = hostile_part == ("path" if where == "path" else "parameters")
        value = draw(_parameter(parameter, operation.spec, hostile_here))
        if where == "path":
            path = path.replace("{" + name + "}", _escaped(value))
        elif where == "header":
            headers[name] = value
        elif where == "query":
            params[name] = value
    # Some apps read Authorization without declaring it, so every request carries one.
    headers["authorization"] = draw(_authorization(auth, hostile_part == "auth"))
    body, content = None, None
    if operation.body_schema is not None:
        schema = operation.body_schema
        body = draw(
            hostile(schema, operation.spec)
            if hostile_part == "body"
            else from_schema(schema, operation.spec)
        )
        content = draw(_encoded(body, hostile_part == "encoding"))
        headers["content-type"] = "application/json"
    if params:
        path += "?" + "&".join(f"{_escaped(k)}={_escaped(v)}" for k, v in params.items())
    return Request(operation.method.upper(), path, headers, content, body)
