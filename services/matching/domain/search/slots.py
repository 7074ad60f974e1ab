"""Interned names and slots: the ids the search's tables are indexed by."""

from __future__ import annotations


class Vocabulary:
    """Interns strings to small ints, per tenant and kind."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def id(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.names)
            self.names.append(name)
        return found

    def __len__(self) -> int:
        return len(self.names)


class Slots:
    """user id -> slot, reusing freed slots; growing adds a quarter to every column (a row
    per goal: doubling would leave up to half of each unused, and written by the padding)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.slot_of: dict[str, int] = {}
        self.user_ids: list[str | None] = []
        self._free: list[int] = []

    @property
    def high_water(self) -> int:
        return len(self.user_ids)

    def take(self, user_id: str) -> tuple[int, bool]:
        """The person's slot, and whether columns must grow to hold it."""
        if user_id in self.slot_of:
            return self.slot_of[user_id], False
        if self._free:
            slot = self._free.pop()
            self.user_ids[slot] = user_id
        else:
            slot = len(self.user_ids)
            self.user_ids.append(user_id)
        self.slot_of[user_id] = slot
        grow = slot >= self.capacity
        if grow:
            self.capacity += max(256, self.capacity // 4)
        return slot, grow

    def release(self, user_id: str) -> int | None:
        slot = self.slot_of.pop(user_id, None)
        if slot is not None:
            self.user_ids[slot] = None
            self._free.append(slot)
        return slot
