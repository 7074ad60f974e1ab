"""The connection type handlers receive: a plain connection or one borrowed from a pool."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    DbConnection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:
    DbConnection = Any
