"""The image's compiled kernels are copied into an empty numba cache, and only then."""

from __future__ import annotations

import stat
from pathlib import Path

from services.matching.adapters.compiled_cache import seed_compiled_cache


def seed_in(tmp_path: Path) -> Path:
    seed = tmp_path / "seed" / "domain_abc"
    seed.mkdir(parents=True)
    (seed / "kernels.best_mentees-113.py311.nbi").write_bytes(b"index")
    return tmp_path / "seed"


def test_an_empty_cache_is_seeded(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert seed_compiled_cache(seed_in(tmp_path), cache)
    assert (cache / "domain_abc" / "kernels.best_mentees-113.py311.nbi").read_bytes() == b"index"


def test_a_cache_with_content_is_left_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "own").write_bytes(b"compiled here")
    assert not seed_compiled_cache(seed_in(tmp_path), cache)
    assert sorted(p.name for p in cache.iterdir()) == ["own"]


def test_nothing_happens_without_a_seed_or_a_cache(tmp_path: Path) -> None:
    assert not seed_compiled_cache(None, tmp_path / "cache")
    assert not seed_compiled_cache(seed_in(tmp_path), None)
    assert not seed_compiled_cache(tmp_path / "missing", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_the_seeded_cache_is_writable_even_from_a_read_only_seed(tmp_path: Path) -> None:
    seed, cache = seed_in(tmp_path), tmp_path / "cache"
    for path in [*seed.rglob("*"), seed]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        seed_compiled_cache(seed, cache)
        copied = [cache, *cache.rglob("*")]
        assert len(copied) == 3
        assert all(path.stat().st_mode & stat.S_IWUSR for path in copied)
    finally:
        for path in [seed, *seed.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
