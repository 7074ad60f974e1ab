"""Idempotency-Key: a retried write has exactly one effect and gets the first answer again.

The key is claimed in the same transaction as the change, so either both commit or neither
does. A concurrent request with the same key waits on the claim's row lock and then replays
the committed answer. Failed requests (4xx) roll back and keep nothing: a retry is evaluated
afresh against the current state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from services.profile.service_layer.unit_of_work import (
    IdempotentRequest,
    ProfileTransaction,
    StoredResponse,
    UnitOfWork,
)

Action = Callable[[ProfileTransaction], Awaitable[StoredResponse]]


class IdempotencyKeyReused(Exception):  # noqa: N818 - reads as a verdict
    """The key was first used for a different request (method, path, body or preconditions)."""


async def run_once(
    uow: UnitOfWork, request: IdempotentRequest | None, action: Action
) -> StoredResponse:
    async with uow.transaction() as tx:
        if request is None:
            return await action(tx)
        earlier = await tx.claim_request(request)
        if earlier is not None:
            if earlier.fingerprint != request.fingerprint:
                raise IdempotencyKeyReused()
            return dataclasses.replace(earlier.response, replayed=True)
        response = await action(tx)
        await tx.remember_response(request, response)
        return response
