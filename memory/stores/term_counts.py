"""Which of a query's terms the keyword indexes search for: the rarest, within a budget of index entries."""

from __future__ import annotations

from collections.abc import Callable

SELECTIVE_SHARE = 20  # a term in more than 1/20 of the index is dropped from the query (see `selective`)
POSTINGS_BUDGET = 3000  # the index entries a query's kept terms may hold together: the ranking scores every one
STALE_GROWTH = 1.05  # counts kept in memory are counted again once the index has grown by 5%


class TermCounts:
    """Estimates that change slowly (how many chunks hold a term, how many a guild has), kept until the index grows:
    the common terms cost the most to count, and they are the ones that recur across questions."""

    def __init__(self) -> None:
        self._terms: dict[tuple[str, str], int] = {}  # (scope, term) -> chunks holding it, up to a ceiling
        self._guilds: dict[str, int] = {}
        self._counted_at = 0

    def at_size(self, size: int) -> None:
        """Forget the kept counts once the index (of about `size` chunks) has grown past them, or shrunk."""
        if size > self._counted_at * STALE_GROWTH or size < self._counted_at:
            self._terms.clear()
            self._guilds.clear()
            self._counted_at = size

    def guild_size(self, guild_id: str, count: Callable[[], int]) -> int:
        """How many chunks a guild has (counted by `count` once)."""
        held = self._guilds.get(guild_id)
        if held is None:
            held = self._guilds[guild_id] = count()
        return held

    def selective(self, scope: str, terms: list[str], size: int, count: Callable[[str, int], int]) -> list[str]:
        """The rarest terms, while the chunks they are in stay within the budget, leaving out those in more than
        ~5% of the index; always the rarest one. `count(term, ceiling)` counts a term's chunks up to just above
        the ceiling (a stop that keeps counting a very common term cheap)."""
        ceiling = max(200, size // SELECTIVE_SHARE)
        counted = []
        for position, term in enumerate(terms):
            # Read once: searches on other threads may forget the kept counts (`at_size`) meanwhile.
            held = self._terms.get((scope, term))
            if held is None:
                held = self._terms[(scope, term)] = count(term, ceiling)
            counted.append((held, position, term))
        kept: list[str] = []
        total = 0
        for held, _, term in sorted(counted):
            if kept and (held > ceiling or total + held > POSTINGS_BUDGET):
                break
            kept.append(term)
            total += held
        return kept
