"""Per-channel high-water marks: every message up to a channel's mark is stored (or was left out on purpose), so after
a restart only the history after it must be read again. A mark moves in the transaction that stores what it covers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a mark may move (see `HistoryMark`).
MarkKind = Literal["stored", "seen", "backfilled", "reconciled"]


@dataclass(frozen=True, slots=True)
class HistoryMark:
    """A channel's mark to move on to `newest_id` (a message id) with the messages it covers; it never moves back.

    - `stored`: live messages stored in the order a gateway `session` delivered them. It makes the channel's first
      mark, or moves one that was caught up in the same session (so live messages stored after a restart, before
      the offline gap is read, cannot hide that gap).
    - `seen`: live messages left out on purpose (bots, channels not remembered): moves a mark of the same session.
    - `backfilled`: a history read after `read_after`: moves the mark only if it already reaches `read_after`, so
      that the read joins what is held without skipping anything.
    - `reconciled`: the reconciliation read after `read_after` (the mark it started from). With `missed_before`
      None the channel is caught up: the session's live marks move it from now on. Otherwise more was missed than
      the read's bound: the messages after `newest_id` and before `missed_before` are unread, and the channel stays
      closed to live marks until they are read (the hole is kept for admins: `ChannelMark.missed_before`).
    """

    guild_id: str
    channel_id: str
    newest_id: str
    kind: MarkKind
    session: str = ""
    read_after: str = "0"
    missed_before: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelMark:
    """How far a channel's history is held; `missed_before` is set while a restart left a hole after the mark."""

    guild_id: str
    channel_id: str
    newest_id: str
    missed_before: str | None = None
