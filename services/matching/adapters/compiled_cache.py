"""Where numba keeps the compiled scoring passes, in an image whose code is read-only.

Numba only uses a cache directory it can write to, and refuses to import a `cache=True` function
when it finds none: the code's own `__pycache__` is read-only to the service's user, whose home
does not exist. So the image sets NUMBA_CACHE_DIR to a writable directory under /tmp and ships the
kernels compiled at build time in a seed directory (MATCHING_NUMBA_SEED_DIR). Copied into the empty
cache before the first call, they are loaded instead of compiled, so a restore waits for no
compiler and does not carry its peak memory.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def seed_compiled_cache(seed: Path | None, cache: Path | None) -> bool:
    """Copy the seed into the cache if the cache holds nothing yet; True if it did."""
    if seed is None or cache is None or not seed.is_dir():
        return False
    if cache.is_dir() and any(cache.iterdir()):
        return False  # compiled (or seeded) by an earlier start of this container
    for source in seed.rglob("*"):
        if source.is_file():  # contents only: the copy must stay writable, as numba requires
            target = cache / source.relative_to(seed)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    log.info("compiled kernels seeded from %s into %s", seed, cache)
    return True
