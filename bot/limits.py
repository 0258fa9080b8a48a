"""Abuse limits on the commands that cost a model call: questions (`/ask`, mentions) and `/recap`, per member and
per guild, over a sliding minute; what is remembered about askers is bounded."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Literal

from bot.config import BotLimitSettings

WINDOW_SECONDS = 60.0
# Members and guilds whose recent requests are kept, at most (each is a few timestamps): past it the least recently
# seen are forgotten, which can only let a forgotten member ask again early, never refuse anyone wrongly.
MAX_TRACKED = 10_000
Kind = Literal["ask", "recap"]
NOUNS = {"ask": ("question", "questions"), "recap": ("recap", "recaps")}


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds (0: no limit), remembering at most `max_keys` keys."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_TRACKED,
    ) -> None:
        self.limit = limit
        self._window = window
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def wait(self, key: Hashable) -> float:
        """Seconds until `key` may have one more event (0.0: now). Asking remembers nothing new."""
        events = self._events.get(key)
        if self.limit <= 0 or events is None:
            return 0.0
        self._expire(events)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self._window - self._clock())

    def take(self, key: Hashable) -> None:
        """Count one event for `key` now."""
        if self.limit <= 0:
            return
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self.limit)
        self._expire(events)
        events.append(self._clock())
        self._events.move_to_end(key)
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)

    def _expire(self, events: deque[float]) -> None:
        cutoff = self._clock() - self._window
        while events and events[0] <= cutoff:
            events.popleft()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over a limit: whose limit, how many a minute, and when one more is allowed."""

    kind: Kind
    scope: Literal["member", "guild"]
    limit: int
    retry_after: float  # seconds

    def message(self) -> str:
        """The sentence for the member (ephemeral), with when to try again."""
        singular, plural = NOUNS[self.kind]
        noun = singular if self.limit == 1 else plural
        who = "You have" if self.scope == "member" else "This server has"
        seconds = max(1, math.ceil(self.retry_after))
        return (
            f"⏳ {who} reached the limit of {self.limit} {noun} a minute. "
            f"Please try again in {seconds} second{'s' if seconds != 1 else ''}."
        )


class RateLimits:
    """The limits of `limits.*_per_member_per_minute` and `limits.*_per_guild_per_minute`. A refused request
    counts against neither limit; `tell` says whether a refused mention should be answered (once a minute per
    member, so that a flood of mentions is not answered by a flood of refusals)."""

    def __init__(self, settings: BotLimitSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._windows: dict[tuple[Kind, str], SlidingWindow] = {
            ("ask", "member"): SlidingWindow(settings.asks_per_member_per_minute, clock=clock),
            ("ask", "guild"): SlidingWindow(settings.asks_per_guild_per_minute, clock=clock),
            ("recap", "member"): SlidingWindow(settings.recaps_per_member_per_minute, clock=clock),
            ("recap", "guild"): SlidingWindow(settings.recaps_per_guild_per_minute, clock=clock),
        }
        self._told = SlidingWindow(1, clock=clock)

    def check(self, kind: Kind, guild_id: int, member_id: int) -> Refusal | None:
        """Count the request if both limits allow it; else the refusal (the longer wait of the two)."""
        member, guild = self._windows[(kind, "member")], self._windows[(kind, "guild")]
        waits = [("member", member, (guild_id, member_id)), ("guild", guild, guild_id)]
        refusals = [
            Refusal(kind, scope, window.limit, wait)  # type: ignore[arg-type]
            for scope, window, key in waits
            if (wait := window.wait(key)) > 0
        ]
        if refusals:
            return max(refusals, key=lambda r: r.retry_after)
        member.take((guild_id, member_id))
        guild.take(guild_id)
        return None

    def tell(self, guild_id: int, member_id: int) -> bool:
        """Whether to answer this member's refused mention (the first refusal of a minute only)."""
        key = (guild_id, member_id)
        if self._told.wait(key) > 0:
            return False
        self._told.take(key)
        return True

    def tracked(self) -> int:
        """Keys remembered across all windows (for tests of the bound)."""
        return sum(len(w) for w in self._windows.values()) + len(self._told)
