"""The keyword index: BM25 over SQLite FTS5, confined to one guild; triggers keep it in step with the chunks table."""

from __future__ import annotations

from collections.abc import Sequence

from memory.stores import term_counts
from memory.stores.sqlite.database import SQLiteDatabase
from memory.stores.term_counts import TermCounts
from memory.words import STOPWORDS, words

OVERFETCH = 5  # the best matches ranked in FTS5 alone are this many times what is wanted, then filtered
MOSTLY_ONE_GUILD = 0.5  # a guild holding more than this share of the index is not confined inside FTS5 (see `_where`)


class SQLiteKeywordIndex:
    """FTS5 over chunk text and file names (porter stemming, diacritics folded), with the guild id indexed too,
    so that a query is confined to one guild inside FTS5 itself."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self._db = database
        self._counts = TermCounts()

    def search(
        self,
        guild_id: str,
        query: str,
        *,
        channels: Sequence[str] | None,
        limit: int,
        after: str | None = None,
        before: str | None = None,
    ) -> list[tuple[str, float]]:
        """BM25 over the FTS5 index: (chunk id, bm25) best first, for chunks of this guild (and channels, and
        created in [after, before) when given, ISO UTC).

        Only the rarest terms are searched for: those in a large share of the guild's chunks barely change the
        ranking, and BM25 scores every chunk a kept term is in (at 100k chunks, all of a question's terms cost
        ~75 ms). Terms are kept rarest first while the chunks they are in stay within a budget (`TermCounts`).
        """
        terms = [t for t in words(query) if t not in STOPWORDS] or words(query)
        if not terms:
            return []
        size = self._index_size()
        where = self._where(guild_id, size)
        kept = self._counts.selective(where, terms[:32], size, lambda term, ceiling: self._count(where, term, ceiling))
        alternatives = " OR ".join(f'"{t}"' for t in kept)
        match = f"{where}({alternatives})"
        # Even the rarest term may be in tens of thousands of chunks (a big, repetitive server): then only its
        # newest `POSTINGS_BUDGET` are ranked, the dense leg searching the rest. A time range is never cut so.
        uncut = after is not None or before is not None or size <= term_counts.POSTINGS_BUDGET
        newest = None if uncut else self._newest(match)
        return self._ranked(match, guild_id, channels, limit, after, before, newest=newest)

    def _ranked(
        self,
        match: str,
        guild_id: str,
        channels: Sequence[str] | None,
        limit: int,
        after: str | None = None,
        before: str | None = None,
        *,
        newest: int | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, bm25) of the chunks an FTS5 query matches, best first, within the guild, channels and times
        (and from rowid `newest` on, when given)."""
        if after is None and before is None:
            ranked = self._best_then_filtered(match, guild_id, channels, limit, newest)
            if ranked is not None:
                return ranked
        # Column weights: text 1, file name 0.5, guild id 0 (it is in every match).
        sql = """SELECT c.chunk_id, bm25(chunks_fts, 1.0, 0.5, 0.0) AS rank
                 FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
                 WHERE chunks_fts MATCH ? AND chunks_fts.rowid >= ? AND c.guild_id = ?"""
        params: list[object] = [match, newest or 0, guild_id]
        if channels is not None:
            sql += _in_channels("c.channel_id", channels)
            params.extend(channels)
        for bound, value in ((">=", after), ("<", before)):
            if value is not None:
                sql += f" AND c.created_at {bound} ?"
                params.append(value)
        sql += " ORDER BY rank LIMIT ?"
        params.append(limit)
        return [(str(row[0]), float(row[1])) for row in self._db.query(sql, params)]

    def _best_then_filtered(
        self, match: str, guild_id: str, channels: Sequence[str] | None, limit: int, newest: int | None
    ) -> list[tuple[str, float]] | None:
        """The best matches by BM25 in FTS5 alone, then those of the guild and channels among them; None when too few
        are left, so that the caller filters every match. Joining each of thousands of matches to its chunk before
        ranking cost more than the ranking (at 100k chunks, 25 ms against 10), and the best few need not be joined
        first: when `limit` of the best `limit * OVERFETCH` are kept, they are the best `limit` of the kept."""
        wide = limit * OVERFETCH
        best = self._db.query(
            "SELECT rowid, bm25(chunks_fts, 1.0, 0.5, 0.0) AS rank FROM chunks_fts WHERE chunks_fts MATCH ?"
            " AND rowid >= ? ORDER BY rank LIMIT ?",
            (match, newest or 0, wide),
        )
        # The unary + keeps SQLite from reading the guild's index (all its chunks) instead of the rows asked for.
        sql = "SELECT rowid, chunk_id FROM chunks WHERE +guild_id = ?"
        params: list[object] = [guild_id]
        if channels is not None:
            sql += _in_channels("+channel_id", channels)
            params.extend(channels)
        sql += " AND rowid IN ({ids})"
        ranked: list[tuple[str, float]] = []
        # The best `limit` are looked up first: in a guild searched whole they are all kept, and the rest need no
        # lookup (each costs ~4 us; the best of any prefix that keeps `limit` are the best `limit` of the kept).
        for part in (best[:limit], best[limit:]):
            kept = {int(row[0]): str(row[1]) for row in self._db.query_in(sql, [row[0] for row in part], before=params)}
            ranked.extend((kept[row[0]], float(row[1])) for row in part if row[0] in kept)
            if len(ranked) >= limit:
                return ranked[:limit]
        return ranked if len(best) < wide else None

    def _newest(self, match: str) -> int | None:
        """The rowid from which on the newest `POSTINGS_BUDGET` matches lie (FTS5 walks its entries by rowid, so
        this reads no more than them), or None when there are fewer."""
        rows = self._db.query(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (match, term_counts.POSTINGS_BUDGET - 1),
        )
        return int(rows[0][0]) if rows else None

    def _where(self, guild_id: str, size: int) -> str:
        """The FTS5 condition that confines a query to the guild, or none when the guild holds most of the index:
        then the guild's id is in nearly every entry, and matching it costs more than the rows it rules out (the
        SQL join confines the query to the guild in both cases)."""
        held = self._counts.guild_size(
            guild_id, lambda: int(self._db.query("SELECT count(*) FROM chunks WHERE guild_id = ?", (guild_id,))[0][0])
        )
        most = held > MOSTLY_ONE_GUILD * size
        return "" if most else f"{_scope(guild_id)} AND "

    def _count(self, where: str, term: str, ceiling: int) -> int:
        """How many of the guild's chunks hold a term, counted up to just above the ceiling (a stop that keeps
        counting a very common term cheap)."""
        found = self._db.query(
            "SELECT count(*) FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
            (f'{where}"{term}"', ceiling + 1),
        )
        return int(found[0][0])

    def _index_size(self) -> int:
        """The chunks table's largest rowid (about its size, read in one step), forgetting kept counts once the
        index has grown past them."""
        rows = self._db.query("SELECT max(rowid) FROM chunks")
        size = int(rows[0][0] or 0)
        self._counts.at_size(size)
        return size

    def matching_all(self, guild_id: str, query: str, chunk_ids: Sequence[str]) -> set[str]:
        """Of these chunks of the guild, those that hold every term of the query (stop words aside): an exact
        keyword match, which the relevance floor keeps whatever its similarity."""
        terms = [t for t in words(query) if t not in STOPWORDS][:32]
        if not terms or not chunk_ids:
            return set()
        # The guild is confined row by row, not in the MATCH: in a guild that holds most of the index its id is in
        # nearly every entry, and intersecting with it doubled this query's cost at 100k chunks.
        match = " AND ".join(f'"{t}"' for t in terms)
        sql = """SELECT c.chunk_id FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
                 WHERE chunks_fts MATCH ? AND +c.guild_id = ? AND c.chunk_id IN ({ids})"""
        return {str(row[0]) for row in self._db.query_in(sql, chunk_ids, before=(match, guild_id))}

    def with_phrases(
        self, guild_id: str, phrases: Sequence[str], *, channels: Sequence[str] | None, limit: int
    ) -> list[str]:
        """Chunks of the guild holding any of these phrases (each word in order), best first by BM25: one query
        for all the names a question's passages mention (`memory.links`)."""
        # A quoted string is an FTS5 phrase: the tokenizer splits it into words that must come in that order.
        quoted = [f'"{_quote(phrase)}"' for phrase in phrases if words(phrase)]
        if not quoted:
            return []
        match = f"{_scope(guild_id)} AND ({' OR '.join(quoted)})"
        return [chunk_id for chunk_id, _ in self._ranked(match, guild_id, channels, limit)]

    def purge_erased(self) -> None:
        """Rebuild the FTS segments without the terms of deleted chunks (a delete only marks them in FTS5)."""
        with self._db.transaction() as db:
            db.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('optimize')")


def _in_channels(column: str, channels: Sequence[str]) -> str:
    """The SQL condition keeping a query to these channels (bind the channel ids after what comes before it)."""
    return f" AND {column} IN ({','.join('?' * len(channels))})"


def _scope(guild_id: str) -> str:
    """The FTS5 condition confining a query to one guild (the guild id is an indexed column)."""
    return f'guild_id:"{_quote(guild_id)}"'


def _quote(value: str) -> str:
    """A value made safe inside an FTS5 string literal."""
    return value.replace('"', '""')
