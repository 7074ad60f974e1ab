"""The profile service as the fuzz tests drive it: its app over HTTP, and what it offers."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from services.profile.bootstrap import ProfileService


@dataclass
class Profile:
    service: ProfileService
    http: httpx.AsyncClient
    paths: set[tuple[str, str]] = field(default_factory=set)

    def offers(self, method: str, path: str) -> bool:
        return (method, path) in self.paths
