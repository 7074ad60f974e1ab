"""The profile service's side of the read API (ADR 0011): forwards an authenticated read to
matching's internal routes (shared/contracts/reads.py) and hands back its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class MatchingUnavailable(Exception):  # noqa: N818 - reads as a verdict
    """Matching did not answer, or answered with something other than a result or a refusal."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON: the contract's model, or a problem+json from matching


RELAYED = frozenset({200, 404, 422})  # a result, or the caller's error, said by matching


class MatchingReads:
    def __init__(self, client: httpx.AsyncClient | None, token: str | None) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def ask(
        self,
        method: str,
        path: str,
        params: dict[str, str | int] | None = None,
        body: Any = None,
        correlation_id: str | None = None,
    ) -> Answer:
        if self._client is None:
            raise MatchingUnavailable("no matching address is configured (PROFILE_MATCHING_URL)")
        headers = dict(self._headers)
        if correlation_id:
            headers["X-Correlation-Id"] = correlation_id
        try:
            response = await self._client.request(
                method, path, params=params, json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise MatchingUnavailable(type(exc).__name__) from exc
        if response.status_code not in RELAYED:
            raise MatchingUnavailable(f"matching answered {response.status_code}")
        return Answer(response.status_code, response.json())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
