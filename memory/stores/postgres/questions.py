"""The PostgreSQL question log: questions asked of memory, the sources their answers used, and members' verdicts."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from memory.reports import AskedQuestion
from memory.stores.postgres.database import PostgresDatabase
from memory.stores.rows import asked_from

_SELECT = """SELECT q.*, count(*) FILTER (WHERE v.verdict = 'up') AS up,
                    count(*) FILTER (WHERE v.verdict = 'down') AS down
             FROM asked_questions q LEFT JOIN question_verdicts v ON v.question_id = q.question_id"""


class PostgresQuestionLog:
    """Each question once, with its verdicts (one per member and question: a later vote replaces the earlier)."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    def record(
        self, guild_id: str, channel_id: str | None, user_id: str, question: str, asked_at: str, sources: list[str]
    ) -> str:
        """Log a question and return its id (random, so that a button naming it reveals nothing)."""
        question_id = secrets.token_hex(8)
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO asked_questions VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (question_id, guild_id, channel_id, user_id, question, asked_at, json.dumps(sources)),
            )
        return question_id

    def vote(self, question_id: str, user_id: str, verdict: str) -> AskedQuestion | None:
        """Record a member's verdict ("up" or "down") on an answer; None when the question is no longer held."""
        with self._db.transaction() as db:
            held = db.execute("SELECT 1 FROM asked_questions WHERE question_id = %s FOR SHARE", (question_id,))
            if held.fetchone() is None:
                return None
            at = datetime.now(UTC).isoformat(timespec="seconds")
            db.execute(
                "INSERT INTO question_verdicts VALUES (%s, %s, %s, %s) ON CONFLICT (question_id, user_id) "
                "DO UPDATE SET verdict = excluded.verdict, at = excluded.at",
                (question_id, user_id, verdict, at),
            )
        rows = self._db.query(_SELECT + " WHERE q.question_id = %s GROUP BY q.question_id", (question_id,))
        return asked_from(rows[0])

    def asked(self, guild_id: str, since: str) -> list[AskedQuestion]:
        """A guild's questions asked at or after `since` (ISO UTC), newest first, with their verdict counts."""
        sql = _SELECT + " WHERE q.guild_id = %s AND q.asked_at >= %s GROUP BY q.question_id ORDER BY q.asked_at DESC"
        return [asked_from(row) for row in self._db.query(sql, (guild_id, since))]

    def forget_user(self, user_id: str) -> int:
        """Erase a member's questions (with every verdict on them) and their verdicts; return how many questions."""
        with self._db.transaction() as db:
            db.execute(
                "DELETE FROM question_verdicts WHERE user_id = %s OR question_id IN "
                "(SELECT question_id FROM asked_questions WHERE user_id = %s)",
                (user_id, user_id),
            )
            count = db.execute("DELETE FROM asked_questions WHERE user_id = %s", (user_id,)).rowcount
        self._db.erased_from("asked_questions", "question_verdicts")
        return count

    def forget_guild(self, guild_id: str) -> None:
        """Erase a guild's questions and their verdicts."""
        with self._db.transaction() as db:
            db.execute(
                "DELETE FROM question_verdicts WHERE question_id IN "
                "(SELECT question_id FROM asked_questions WHERE guild_id = %s)",
                (guild_id,),
            )
            db.execute("DELETE FROM asked_questions WHERE guild_id = %s", (guild_id,))
        self._db.erased_from("asked_questions", "question_verdicts")

    def expire(self, before: str) -> int:
        """Erase the questions asked before `before` (ISO UTC) and their verdicts; return how many."""
        with self._db.transaction() as db:
            old = "SELECT question_id FROM asked_questions WHERE asked_at < %s"
            db.execute(f"DELETE FROM question_verdicts WHERE question_id IN ({old})", (before,))
            count = db.execute("DELETE FROM asked_questions WHERE asked_at < %s", (before,)).rowcount
        self._db.erased_from("asked_questions", "question_verdicts")
        return count
