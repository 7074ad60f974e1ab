"""A restore runs with collections paused and leaves what it built frozen, only if it completes."""

from __future__ import annotations

import gc

import pytest

from services.matching.adapters.state_loader import collections_paused


def test_a_completed_restore_leaves_what_it_built_frozen() -> None:
    gc.unfreeze()
    with collections_paused():
        assert not gc.isenabled()
        built = [[index] for index in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)
    gc.unfreeze()


def test_a_failed_restore_freezes_nothing() -> None:
    gc.unfreeze()
    with pytest.raises(RuntimeError), collections_paused():
        raise RuntimeError("store away")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
