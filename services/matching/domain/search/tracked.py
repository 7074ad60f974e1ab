"""A dict the garbage collector never stops watching, so that gc.freeze() keeps it frozen.

The service freezes what a restore built (service_layer/handlers.keep_out_of_collections), so
that collections during events walk only what events made. But a full collection *untracks* a
plain dict whose keys and values are all atomic or untracked themselves, as tuples of numbers
and strings become (CPython's `untrack_dicts`), and an untracked dict is not frozen. The next
tuple an event puts in it tracks it again, in the youngest generation: the next young and
middle collections then walk every one of its entries. At full scale (the hosts of 50,000
mentors, the musts of 114,000 goals) that was a collection of 9 to 14 ms inside a GoalSet,
twice in 2,000. A subclass of dict is never untracked (only exact dicts are), so a large,
long-lived table of tuples is made one of these: frozen with the rest, it stays so.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TrackedDict(dict[K, V]):
    __slots__ = ()  # no per-instance __dict__: as small as a plain dict
