"""Each open mentor's host, kept incrementally (ADR 0010, `constraints.stable_hosts`).

A mentor's walk is the seekers within its cap, best first: its entries among the best `budget`
of every partition, those here with their slot, those elsewhere read from the store (slot -1).
A mentor is the guest of the first seeker of its walk with room; a seeker hosts at most
`places`, those it scores best, and turns the worst away to its next seeker.

Kept like deferred acceptance, repaired where a change lands rather than recomputed:
- each seeker's guests, best first (`seated`), so whether it has room for a mentor, or whom it
  turns away, is read from its last guest;
- each seeker's passers, best first: the mentors it turned away (full with better guests).
  When a guest leaves, the best passer takes the place at once (it prefers that seeker to its
  host, which is further down its walk), and its old host is refilled the same way: one chain
  of moves, each a mentor moving up its walk;
- each mentor's walk up to its host (`prefix`), all of it when no seeker took it. A change to
  the mentor's lists is weighed at `settle` (before the engine re-ranks): one that leaves that
  prefix as it was moves nothing, so most changes, which land behind a mentor's host, cost a
  look at its first entries.
At rest, every passer is turned away by a full seeker whose guests are all better, and a seeker
with room has no passers: no mentor and seeker prefer each other to what they hold, which is
the one stable assignment (check_hosts compares it with stable_hosts over every walk).
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

from services.matching.domain.constraints import OrderKey, stable_hosts
from services.matching.domain.mentor_lists import Entry
from services.matching.domain.people import tiebreak
from services.matching.domain.search.tracked import TrackedDict

if TYPE_CHECKING:
    from services.matching.domain.engine.lists import MentorLists

Guest = tuple[float, int, str]  # (-score, mentor's tiebreak, mentor id): a seeker's order
WHOLE = 1 << 30  # a walk's length with no limit (a walk is at most the mentor's budget)


class Hosts:
    def __init__(self, places: int, noticed: Callable[[int], None]) -> None:
        self.places = places
        self.noticed = noticed  # a seeker slot here whose guests changed (it is re-ranked)
        self.walk: Callable[[str, int], list[Entry]] = lambda mentor_id, count: []  # the lists'
        # mentor -> its host, as an entry of its walk; mentor -> its walk up to its host
        self.host: dict[str, Entry] = TrackedDict()
        self.prefix: dict[str, tuple[Entry, ...]] = TrackedDict()
        self.seated: dict[int, list[Guest]] = {}  # seeker tiebreak -> its guests, best first
        self.passers: dict[int, list[Guest]] = {}  # seeker tiebreak -> turned away, best first
        self.guests: dict[int, set[str]] = defaultdict(set)  # seeker slot here -> its guests
        self.pending: set[str] = set()  # mentors whose walk may have changed
        self.queue: list[str] = []  # mentors turned away from their host, to walk on
        self.orders: dict[str, int] = {}  # mentor -> its tiebreak

    @property
    def of(self) -> dict[str, Entry]:
        """Each mentor hosted by a seeker here, with the entry of its host."""
        return {m: entry for m, entry in self.host.items() if entry[2] >= 0}

    def touch(
        self, mentor_id: str, key: Entry | None = None, pushed: OrderKey | None = None
    ) -> None:
        """The mentor's walk may have changed (`key`: only by that entry, entering or leaving
        the shown part: behind its host, that moves nothing; `pushed`: it entered, and pushed
        that key, its last, out of the walk)."""
        if self.places <= 0:
            return
        host = self.host.get(mentor_id)
        behind = key is not None and host is not None and key[:2] > host[:2]
        if behind and (pushed is None or host is None or pushed != host[:2]):
            return
        if (
            pushed is None
            or key is None
            or mentor_id in self.pending
            or not self._passes(mentor_id, key, pushed, host)
        ):
            self.pending.add(mentor_id)

    def held_elsewhere(self, slots: Collection[int]) -> None:
        """These seekers' partitions moved to another instance: in every walk, an entry naming
        one keeps its order key and names no slot here (-1), as a walk read from the store
        names a seeker held elsewhere. Every walk's keys are the same, so every host is."""
        moved = set(slots)
        for mentor_id, prefix in list(self.prefix.items()):
            if any(entry[2] in moved for entry in prefix):
                self.prefix[mentor_id] = tuple(_named_here(entry, moved) for entry in prefix)
        for mentor_id, entry in list(self.host.items()):
            if entry[2] in moved:
                self.host[mentor_id] = _named_here(entry, moved)
        for slot in moved:
            self.guests.pop(slot, None)

    def _passes(self, mentor_id: str, entry: Entry, pushed: OrderKey, host: Entry | None) -> bool:
        """`entry` entered the mentor's walk before its host (or with none), pushing `pushed`
        out: when that seeker turns it away too, the mentor only passes it, and nothing else
        moves (early in a build each new seeker enters the walks of thousands of mentors, most
        of them turned away everywhere). False: it is weighed again at `settle`."""
        prefix = self.prefix.get(mentor_id)
        end = (pushed[0], pushed[1])
        if not prefix:
            return False
        if host is None and (prefix[-1][0], prefix[-1][1]) != end:
            return False  # not the walk it left: weighed whole
        if host is not None and (host[0], host[1]) == end:
            return False
        order = self._order(mentor_id)
        guest = (entry[0], order, mentor_id)
        seated = self.seated.get(entry[1], [])
        if len(seated) < self.places or guest < seated[-1]:
            return False
        bisect.insort(self.passers.setdefault(entry[1], []), guest)
        walk = list(prefix)
        if host is None:
            dropped = walk.pop()
            _discard(self.passers, dropped[1], (dropped[0], order, mentor_id))
        bisect.insort(walk, entry)
        self.prefix[mentor_id] = tuple(walk)
        return True

    def settle(self) -> None:
        """Every mentor touched since the last call weighed again, and what that moves."""
        while self.pending or self.queue:
            if self.queue:
                self._place(self.queue.pop())
                continue
            mentor_id = self.pending.pop()
            old = self.prefix.get(mentor_id, ())
            count = len(old) if mentor_id in self.host else WHOLE
            if tuple(self.walk(mentor_id, count)) != old:
                self._reweigh(mentor_id, old)

    def _reweigh(self, mentor_id: str, old: tuple[Entry, ...]) -> None:
        """The mentor's walk changed up to its host (anywhere, with none). Most such changes
        (early in a build, each new seeker enters the walks of thousands of mentors) bring
        seekers that turn it away too, and keep its host: it then only passes other seekers.
        Otherwise it walks again."""
        walk = self.walk(mentor_id, WHOLE)
        host = self.host.get(mentor_id)
        if host is not None and host not in walk:
            self._place(mentor_id)
            return
        end = walk.index(host) if host is not None else len(walk)
        order, passed = self._order(mentor_id), set(self._passed(mentor_id))
        added = [entry for entry in walk[:end] if entry not in passed]
        for entry in added:
            seated = self.seated.get(entry[1], [])
            if len(seated) < self.places or (entry[0], order, mentor_id) < seated[-1]:
                self._place(mentor_id)
                return
        kept = set(walk[:end])
        for entry in passed - kept:
            _discard(self.passers, entry[1], (entry[0], order, mentor_id))
        for entry in added:
            bisect.insort(self.passers.setdefault(entry[1], []), (entry[0], order, mentor_id))
        if walk:
            self.prefix[mentor_id] = tuple(walk[: end + 1])
        else:
            self.prefix.pop(mentor_id, None)
            self.orders.pop(mentor_id, None)

    def _order(self, mentor_id: str) -> int:
        order = self.orders.get(mentor_id)
        if order is None:
            order = self.orders[mentor_id] = tiebreak(mentor_id)
        return order

    def _place(self, mentor_id: str) -> None:
        """The mentor walks again from its first seeker: each full one whose guests are all
        better turns it away, the first other one takes it (turning its worst away if full)."""
        order = self._order(mentor_id)
        for entry in self._passed(mentor_id):  # first: no refill below may move it
            _discard(self.passers, entry[1], (entry[0], order, mentor_id))
        self._unseat(mentor_id, refill=True)
        walk = self.walk(mentor_id, WHOLE)
        for index, entry in enumerate(walk):
            guest = (entry[0], order, mentor_id)
            seated = self.seated.get(entry[1], [])
            if len(seated) >= self.places:
                if guest > seated[-1]:
                    bisect.insort(self.passers.setdefault(entry[1], []), guest)
                    continue
                turned = seated[-1][2]
                self._unseat(turned, refill=False)
                self.prefix[turned] = self.prefix[turned][:-1]  # it passed its host now
                self.queue.append(turned)
            self._seat(mentor_id, entry, guest)
            self.prefix[mentor_id] = tuple(walk[: index + 1])
            return
        if walk:
            self.prefix[mentor_id] = tuple(walk)
        else:
            self.prefix.pop(mentor_id, None)
            self.orders.pop(mentor_id, None)

    def _passed(self, mentor_id: str) -> tuple[Entry, ...]:
        """The seekers that turned the mentor away: its prefix before its host."""
        prefix = self.prefix.get(mentor_id, ())
        return prefix[:-1] if mentor_id in self.host else prefix

    def _seat(self, mentor_id: str, entry: Entry, guest: Guest) -> None:
        self.host[mentor_id] = entry
        bisect.insort(self.seated.setdefault(entry[1], []), guest)
        if entry[2] >= 0:
            self.guests[entry[2]].add(mentor_id)
            self.noticed(entry[2])

    def _unseat(self, mentor_id: str, refill: bool) -> None:
        """The mentor leaves its host. With `refill`, the place goes to the best mentor that
        seeker turned away, which leaves its own host, refilled so in turn."""
        host = self.host.pop(mentor_id, None)
        while host is not None:
            _discard(self.seated, host[1], (host[0], self._order(mentor_id), mentor_id))
            if host[2] >= 0:
                held = self.guests[host[2]]
                held.discard(mentor_id)
                if not held:
                    del self.guests[host[2]]
                self.noticed(host[2])
            passers = self.passers.get(host[1])
            if not refill or not passers:
                return
            guest = passers.pop(0)
            if not passers:
                del self.passers[host[1]]
            mover, prefix = guest[2], self.prefix[guest[2]]
            index = next(i for i, entry in enumerate(prefix) if entry[1] == host[1])
            for entry in self._passed(mover)[index + 1 :]:  # it no longer walks past them
                _discard(self.passers, entry[1], (entry[0], guest[1], mover))
            left = self.host.pop(mover, None)
            self._seat(mover, prefix[index], guest)
            self.prefix[mover] = prefix[: index + 1]
            mentor_id, host = mover, left

    def check(self, lists: MentorLists, mentors: Iterable[str]) -> None:
        check_hosts(self, lists, mentors)


def _named_here(entry: Entry, moved: set[int]) -> Entry:
    return (entry[0], entry[1], -1) if entry[2] in moved else entry


def _discard(by_seeker: dict[int, list[Guest]], seeker: int, guest: Guest) -> None:
    held = by_seeker.get(seeker)
    if held is None:
        return
    index = bisect.bisect_left(held, guest)
    if index < len(held) and held[index] == guest:
        del held[index]
        if not held:
            del by_seeker[seeker]


def walk_of(lists: MentorLists, mentor_id: str, count: int) -> list[Entry]:
    """The first `count` seekers of the mentor's walk: its best `budget` entries over every
    partition (the lists here, and the best keys stored elsewhere with slot -1), which are
    those within its cutoff (constraints.exposure_cutoff)."""
    budget = lists.budget(mentor_id)
    count = min(count, budget)
    if count <= 0:
        return []
    found: list[Entry] = []
    for mentor_list in lists.records.get(mentor_id, ()):
        if mentor_list is not None:
            found += mentor_list.entries[:count]
    for keys in lists.remote.get(mentor_id, {}).values():
        found += [(key[0], key[1], -1) for key in keys[:count]]
    if count == 1:
        return [min(found)] if found else []
    return heapq.nsmallest(count, found)


def check_hosts(hosts: Hosts, lists: MentorLists, mentors: Iterable[str]) -> None:
    """Nothing is left to weigh, and the hosts are stable_hosts over every mentor's walk."""
    assert not hosts.pending and not hosts.queue
    walks = {m: (tiebreak(m), walk_of(lists, m, WHOLE)) for m in mentors}
    keys = {m: (o, [(e[0], e[1]) for e in w]) for m, (o, w) in walks.items() if w}
    expected = stable_hosts(keys, hosts.places)
    assert {m: (e[0], e[1]) for m, e in hosts.host.items()} == expected
    by_slot: dict[int, set[str]] = defaultdict(set)
    for mentor_id, entry in hosts.host.items():
        assert entry in walks[mentor_id][1], mentor_id
        if entry[2] >= 0:
            by_slot[entry[2]].add(mentor_id)
            assert mentor_id in lists.shown_by[entry[2]], mentor_id
    assert dict(hosts.guests) == by_slot
