"""The incremental engine: TenantEngine (tenant.py), its parts, and Restorer (restore.py)."""

from services.matching.domain.engine.rankings import Ranked
from services.matching.domain.engine.restore import Restorer
from services.matching.domain.engine.tenant import Changes, TenantEngine, population

__all__ = ["Changes", "Ranked", "Restorer", "TenantEngine", "population"]
