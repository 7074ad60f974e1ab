"""Read a service's operator endpoints (/metrics, /readyz) as an operator would."""

from __future__ import annotations

import httpx


async def scrape(app: object, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get(path)


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample whose labels include `labels`."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
