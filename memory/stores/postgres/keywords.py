"""The keyword index on PostgreSQL: full-text search (tsvector, GIN, ts_rank_cd), confined to one guild."""

from __future__ import annotations

import re
from collections.abc import Sequence

from memory.stores import term_counts
from memory.stores.postgres.database import PostgresDatabase
from memory.stores.term_counts import TermCounts
from memory.words import STOPWORDS, words

CONFIG = "simple"  # the text search configuration of the chunks' tsvector column (see the migrations)
# ts_rank_cd's weights for labels {D, C, B, A}: text (A) 1, file name (B) 0.5, as the SQLite index weighs them.
_RANK = "ts_rank_cd('{0, 0, 0.5, 1}', terms, q)"
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]+")  # ASCII punctuation, read as a space in the column too


class PostgresKeywordIndex:
    """Full-text search over chunk text and file names: the tsvector column of the chunks table, GIN-indexed."""

    def __init__(self, database: PostgresDatabase) -> None:
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
        """Full-text search ranked by ts_rank_cd: (chunk id, rank) best first, for chunks of this guild (and
        channels, and created in [after, before) when given, ISO UTC).

        As in the SQLite index, only the rarest terms are searched for (`TermCounts`): ranking scores every
        chunk a kept term is in, and the common terms barely change the order.
        """
        terms = [t for t in words(query) if t not in STOPWORDS] or words(query)
        if not terms:
            return []
        rows = self._db.query("SELECT coalesce(max(seq), 0) FROM chunks")
        size = int(rows[0][0])
        self._counts.at_size(size)
        kept = self._counts.selective(
            guild_id, terms[:32], size, lambda term, ceiling: self._count(guild_id, term, ceiling)
        )
        texts = [_plain(t) for t in kept]
        newest = after is None and before is None and size > term_counts.POSTINGS_BUDGET  # as the SQLite index
        return self._ranked(_any(kept), texts, guild_id, channels, limit, after, before, newest=newest)

    def _ranked(
        self,
        tsquery: str,
        texts: list[str],
        guild_id: str,
        channels: Sequence[str] | None,
        limit: int,
        after: str | None = None,
        before: str | None = None,
        *,
        newest: bool = False,
    ) -> list[tuple[str, float]]:
        """(chunk id, rank) of the chunks a tsquery matches, best first, within the guild, channels and times
        (only the newest `POSTINGS_BUDGET` matches when `newest`)."""
        sql = f"SELECT chunk_id, {_RANK} AS rank FROM chunks, (SELECT {tsquery} AS q) AS query "
        sql += "WHERE terms @@ q AND guild_id = %s"
        params: list[object] = [*texts, guild_id]
        if newest:  # the oldest of the newest matches, found without ranking any
            sql += f""" AND seq >= (SELECT coalesce(min(seq), 0) FROM (SELECT seq FROM chunks
                        WHERE terms @@ {tsquery} AND guild_id = %s ORDER BY seq DESC LIMIT %s) AS newest)"""
            params.extend([*texts, guild_id, term_counts.POSTINGS_BUDGET])
        if channels is not None:
            sql += " AND channel_id = ANY(%s)"
            params.append(list(channels))
        for bound, value in ((">=", after), ("<", before)):
            if value is not None:
                sql += f" AND created_at {bound} %s"
                params.append(value)
        sql += " ORDER BY rank DESC, seq LIMIT %s"
        params.append(limit)
        return [(str(row[0]), float(row[1])) for row in self._db.query(sql, params)]

    def _count(self, guild_id: str, term: str, ceiling: int) -> int:
        """How many of the guild's chunks hold a term, counted up to just above the ceiling."""
        rows = self._db.query(
            f"SELECT count(*) FROM (SELECT 1 FROM chunks WHERE guild_id = %s "
            f"AND terms @@ plainto_tsquery('{CONFIG}', %s) LIMIT %s) AS held",
            (guild_id, _plain(term), ceiling + 1),
        )
        return int(rows[0][0])

    def matching_all(self, guild_id: str, query: str, chunk_ids: Sequence[str]) -> set[str]:
        """Of these chunks of the guild, those that hold every term of the query (stop words aside): an exact
        keyword match, which the relevance floor keeps whatever its similarity."""
        terms = [t for t in words(query) if t not in STOPWORDS][:32]
        if not terms or not chunk_ids:
            return set()
        every = " && ".join([f"plainto_tsquery('{CONFIG}', %s)"] * len(terms))
        rows = self._db.query(
            f"SELECT chunk_id FROM chunks WHERE guild_id = %s AND chunk_id = ANY(%s) AND terms @@ ({every})",
            [guild_id, list(chunk_ids), *(_plain(t) for t in terms)],
        )
        return {str(row[0]) for row in rows}

    def with_phrases(
        self, guild_id: str, phrases: Sequence[str], *, channels: Sequence[str] | None, limit: int
    ) -> list[str]:
        """Chunks of the guild holding any of these phrases (each word in order), best first: one query for all
        the names a question's passages mention (`memory.links`)."""
        kept = [_plain(phrase) for phrase in phrases if words(phrase)]
        if not kept:
            return []
        tsquery = "(" + " || ".join([f"phraseto_tsquery('{CONFIG}', %s)"] * len(kept)) + ")"
        return [chunk_id for chunk_id, _ in self._ranked(tsquery, kept, guild_id, channels, limit)]

    def purge_erased(self) -> None:
        """Nothing to do here: a deleted row's tsvector and GIN entries go with the row when the database's
        `flush_erased` VACUUMs the table."""


def _plain(text: str) -> str:
    """Text as the column reads it: ASCII punctuation is a space."""
    return _PUNCTUATION.sub(" ", text)


def _any(terms: Sequence[str]) -> str:
    """A tsquery of any of the terms (each bound as a parameter, in order)."""
    return "(" + " || ".join([f"plainto_tsquery('{CONFIG}', %s)"] * len(terms)) + ")"
