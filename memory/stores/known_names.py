"""The place names a process wrote or read, so that a message in a known channel costs the name stores no write."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

# The bound keeps a bot in many guilds from growing it without end (cleared when full: the next messages write
# their names once again).
MAX_KNOWN_NAMES = 10_000


class KnownNames:
    """(guild, channel) -> the name last written or read, thread-safe and bounded."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def changed(self, guild_id: str, names: Mapping[str, str]) -> dict[str, str]:
        """The names (channel id, or '' for the guild, -> name) that differ from those known; empty names say
        nothing and are left out."""
        with self._lock:
            return {c: n for c, n in names.items() if n and self._known.get((guild_id, c)) != n}

    def learn(self, guild_id: str, names: Mapping[str, str]) -> None:
        """Note names as written."""
        with self._lock:
            if len(self._known) + len(names) > MAX_KNOWN_NAMES:
                self._known.clear()
            self._known.update({(guild_id, c): n for c, n in names.items()})

    def forget(self, guild_id: str, channel_ids: Sequence[str] | None) -> None:
        """Drop a guild's names (or only these channels')."""
        with self._lock:
            gone = [k for k in self._known if k[0] == guild_id and (channel_ids is None or k[1] in channel_ids)]
            for key in gone:
                del self._known[key]
