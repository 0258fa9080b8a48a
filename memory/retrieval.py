"""Hybrid retrieval: dense Chroma + FTS5 BM25 (and for time-aware questions a time leg), fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from langchain_core.embeddings import Embeddings

from memory.answer_types import value_check
from memory.in_force import asks_only, in_range_first, in_time_order, said_words, speakers
from memory.links import linked
from memory.member_legs import MemberLegs
from memory.rerank import PairScorer, rerank
from memory.settings import RetrievalSettings
from memory.stores.interfaces import ChunkStore, KeywordIndex, RecordStore, VectorIndex
from memory.types import Chunk, Hit, utc_iso
from memory.when import TimeScope
from memory.words import STOPWORDS, words

RRF_K = 60  # the usual reciprocal-rank-fusion constant: rank 1 scores 1/61
RANGE_SCAN = 500  # a range's newest passages, ranked by meaning (each costs ~0.04 ms)
RECENT = timedelta(days=14)  # for "now", the passages of this long before the asking time are candidates too
RECENT_SCAN = 100  # at most this many of them, the newest (~4 ms a "now" question at 100k chunks)
RECENT_TAKEN = 10  # and the closest few of those join the fusion (with those holding every word of the question)
RECENT_WEIGHT = 0.3  # their leg's share of the time weight: candidates, not a preference (their dates decide later)
TIME_WIDENING = 4  # a time range filters the dense leg afterwards, so it fetches this many times more
TOPICAL_MARGIN = 0.1  # a dense hit this close to the best similarity is on the question's topic
LOOKUP_LIMIT = 5  # keyword hits read per linked title, to find the page it names
RESTATEMENT = 0.7  # a later statement this like the one in force says the same thing anew (see _restated)
FLOOR_MARGIN = 1e-3  # a keyword hit this close above the floor is checked for an exact match too (see `_near_floor`)
RESTATED_MARGIN = 0.25  # and is at most this much less like the question than it
# Words a question about a time range ("what happened yesterday?") uses without naming any topic.
_GENERIC = frozenset(
    [
        "happen", "happened", "happening", "change", "changed", "changes", "new", "news", "discuss", "discussed",
        "talk", "talked", "say", "said", "decide", "decided", "going", "on", "up", "update", "updates", "anything",
        "something", "everything", "there", "any", "else", "all", "been", "get", "got", "catch", "missed", "miss",
        "different", "away", "recap", "summary", "summarise", "summarize", "overview",
    ]
)  # fmt: skip


class Retriever:
    """Finds the chunks of one guild most relevant to a query, optionally within some channels only."""

    def __init__(
        self,
        chunks: ChunkStore,
        keywords: KeywordIndex,
        vectors: VectorIndex,
        embeddings: Embeddings,
        settings: RetrievalSettings,
        *,
        records: RecordStore,
        reranker: PairScorer | None = None,
    ) -> None:
        self._records = records
        self._chunks = chunks
        self._keywords = keywords
        self._vectors = vectors
        self._embeddings = embeddings
        self._settings = settings
        self._reranker = reranker
        self._members = MemberLegs(
            records, embeddings, self._dense, self._known, settings.candidates, settings.member_weight
        )
        # The keyword leg, and then its hits' vectors and records, are read here while the calling thread embeds the
        # query and asks Chroma: all of it waits outside the GIL (SQLite, onnxruntime, Chroma's reads), so a search
        # takes about the longer of the two, not their sum.
        self._beside = ThreadPoolExecutor(max_workers=4, thread_name_prefix="memorybot-search")

    def close(self) -> None:
        """Stop the search's worker threads (after the searches under way)."""
        self._beside.shutdown()

    def search(
        self,
        query: str,
        guild_id: str,
        *,
        channels: Sequence[str] | None = None,
        max_sources: int | None = None,
        min_relevance: float | None = None,
        scope: TimeScope | None = None,
    ) -> list[Hit]:
        """Hybrid search: the best hits first, overlapping chat windows removed, neighbours added.

        Args:
            query: what to look for.
            guild_id: only this guild's memory is searched (each guild has its own collection).
            channels: only these channels, or all of the guild's when None.
            max_sources: at most this many hits before neighbours are added (default: all candidates).
            min_relevance: the least cosine similarity a hit needs (default from settings).
            scope: the question's time words, resolved (`memory.when`): a range keeps the hits inside it (when it
                holds any) and adds a leg of the range's own passages (its newest RANGE_SCAN, ranked by meaning);
                "now" or "the first time" puts the latest or the earliest of the hits on the topic ahead ("now" also
                takes the last RECENT's passages as candidates, those holding every word of the question on its topic).
        """
        settings = self._settings
        scope = scope or TimeScope()
        floor = settings.min_relevance if min_relevance is None else min_relevance
        allowed = None if channels is None else list(dict.fromkeys(channels))
        if allowed is not None and not allowed:
            return []
        after, before = _iso(scope.after), _iso(scope.before)
        words = scope.without_phrases(query)  # "now" or "last week" would match every message saying it
        lexical_leg = self._beside.submit(
            self._keywords.search, guild_id, words, channels=allowed, limit=settings.candidates, after=after,
            before=before,
        )  # fmt: skip
        query_vector = self._embeddings.embed_query(query)
        lexical = lexical_leg.result()
        # The keyword hits' vectors (Chroma) and records (SQLite) are read there while Chroma is asked here.
        lexical_ids = [i for i, _ in lexical]
        lexical_vectors = self._beside.submit(self._near_floor, guild_id, lexical_ids, query_vector, words, floor)
        lexical_records = self._beside.submit(self._chunks.chunks, lexical_ids)
        read: dict[str, Chunk] = {}  # the records read so far, by chunk id
        widening = TIME_WIDENING if scope.bounded or scope.order else 1
        dense = self._dense(guild_id, query_vector, allowed, widening, read=read)
        legs = [([i for i, _ in dense], settings.dense_weight), ([i for i, _ in lexical], settings.lexical_weight)]
        member_legs = self._members.legs(guild_id, query, allowed)
        legs += [(leg.ids, leg.weight) for leg in member_legs]
        names_a_topic = bool(_topic_words(words))
        timed: list[str] = []
        in_range_near: set[str] = set()
        recent_words: set[str] = set()
        range_similarity: dict[str, float] = {}
        if scope.bounded:
            # The range's own passages by meaning: its few on the topic among its many. So too when the question names
            # no topic ("I've been away since Monday, what's different?"): its newest few alone would be the range's
            # last hours; by meaning they reach back to its start (timeline "since" recall 0.79-0.91 -> 0.88-1.00).
            newest = scope.order != "earliest"
            said = self._chunks.in_range(
                guild_id, after, before, channels=allowed, newest_first=newest, limit=RANGE_SCAN
            )
            by_meaning = sorted(self._similarities(guild_id, said, query_vector).items(), key=lambda p: -p[1])
            timed = [i for i, _ in by_meaning[: settings.candidates]]
            top = by_meaning[0][1] if by_meaning else 0.0
            in_range_near = {i for i, s in by_meaning if s >= top - TOPICAL_MARGIN}
            range_similarity = dict(by_meaning)
            legs.append((timed, settings.time_weight))
        elif scope.order == "latest" and scope.said_until is not None:
            recent = self._recent(guild_id, scope.said_until, allowed, query_vector)
            range_similarity = dict(recent)
            # Those of them holding every word of the question are on its topic however the embedder rates them: a
            # weekly rota says "on call" again and again, and this week's "pager handover done, Noor is on call" is
            # 0.40 like "who's currently on call?", an old window that asks it and answers 0.62.
            recent_words = self._keywords.matching_all(guild_id, words, [i for i, _ in recent])
            taken = [i for place, (i, _) in enumerate(recent) if place < RECENT_TAKEN or i in recent_words]
            legs.append((taken, settings.time_weight * RECENT_WEIGHT))
        fused: dict[str, float] = {}
        for ids, weight in legs:
            for rank, chunk_id in enumerate(ids):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
        lexical_similarity, exact = lexical_vectors.result()
        read |= lexical_records.result()
        similarity = range_similarity | lexical_similarity | dict(dense)
        similarity.update(self._similarities(guild_id, [i for i in fused if i not in similarity], query_vector))
        # Vectors without a record (an interrupted delete) drop out.
        chunks = self._known(list(fused), read)
        ranked = sorted(
            (Hit(chunks[i], round(score, 6), similarity.get(i)) for i, score in fused.items() if i in chunks),
            # Equal fused scores are common (ranks 2 and 5 in one leg, 5 and 2 in the other); the closer passage wins,
            # so the order never depends on the chunk ids.
            key=lambda hit: (-hit.score, -(hit.similarity or 0.0), hit.chunk.chunk_id),
        )
        ranked = [h for h in ranked if scope.said_by_then(h.chunk.created_at)]
        keyword_ids = {chunk_id for chunk_id, _ in lexical}
        best = max((s for _, s in dense), default=0.0)
        near = {i for i, s in dense if s >= best - TOPICAL_MARGIN}
        topical = keyword_ids | near | in_range_near | recent_words
        if scope.bounded:
            on_topic: set[str] = set()
            if names_a_topic:  # what the range's passages are about may have been said before it began
                everywhere = self._keywords.search(guild_id, words, channels=allowed, limit=settings.candidates)
                on_topic = topical | {i for i, _ in everywhere}
            ranked = in_range_first(ranked, scope, on_topic)
        if scope.order is not None:
            valued = value_check(query, speakers(ranked)) if scope.order == "latest" else None  # "now" only
            ranked = in_time_order(ranked, near, topical, scope.order, valued)
        if scope.order == "latest":
            ranked = self._restated(guild_id, ranked)
        # The floor is on similarity, but a passage holding every word of the query (an unusual name, a code) is
        # an exact keyword match however the embedder rates it, so it stays; so do the range's own passages
        # (`timed`): the question asks about what was said then, and the embedder often rates an answer put in
        # other words under the floor ("what broke yesterday?" against "incident open for login service": 0.11).
        # They stay where `in_range_first` put them, after the range's passages on the topic.
        # A member's own passage is judged by what is asked of the member (`MemberLeg`), not by the whole question.
        about_member = {i for leg in member_legs for i in leg.ids if leg.similarity.get(i, 0.0) >= floor}
        below = [h.chunk.chunk_id for h in ranked if h.similarity is not None and h.similarity < floor]
        kept = (exact | set(timed) | about_member) & set(below)
        ranked = [h for h in ranked if h.similarity is None or h.similarity >= floor or h.chunk.chunk_id in kept]
        if scope.landmark is not None:  # "before the Lisbon offsite": the message that says when it was
            ranked = self._with_landmark(ranked, guild_id, scope.landmark, query_vector)
        if self._reranker is not None:  # after the floor, before overlaps: the passage it prefers stays
            ranked = rerank(self._reranker, query, ranked)
        ranked = _without_overlaps(ranked)
        if settings.linked_documents:
            ranked = linked(
                ranked,
                words,
                lambda names: self._lookup(guild_id, names, allowed, scope),
                lambda ids: self._similarities(guild_id, ids, query_vector),
                floor,
            )
        if max_sources is not None:
            ranked = ranked[:max_sources]
        if settings.neighbours:
            ranked = self._with_neighbours(ranked, allowed)
        return ranked

    def _recent(
        self, guild_id: str, said_until: datetime, allowed: list[str] | None, query_vector: Sequence[float]
    ) -> list[tuple[str, float]]:
        """For "now": the newest passages of the last RECENT said by the asking time, by meaning, best first (the
        statement in force may be one of many on its topic, too far down the time-blind legs to be a candidate)."""
        start, end = _iso(said_until - RECENT), _iso(said_until)
        ids = self._chunks.in_range(guild_id, start, end, channels=allowed, newest_first=True, limit=RECENT_SCAN)
        return sorted(self._similarities(guild_id, ids, query_vector).items(), key=lambda p: -p[1])

    def _similarities(self, guild_id: str, chunk_ids: list[str], query_vector: Sequence[float]) -> dict[str, float]:
        """Cosine similarity to the query of chunks the dense leg did not return (or a range's passages), from their
        stored vectors."""
        return self._vectors.similarities(guild_id, chunk_ids, query_vector)

    def _restated(self, guild_id: str, hits: list[Hit]) -> list[Hit]:
        """The hits with the latest restatement of the first statement first: a later message saying the same kind of
        thing anew ("pager handover done, Liam is on call" after "…, Tomás is on call") is what is in force now, even
        when it is less like the question than a window that also holds the question asked back then."""
        statements = [h for h in hits if h.chunk.kind != "file" and h.chunk.created_at and not asks_only(h)]
        if not statements:
            return hits
        anchor, said = statements[0].chunk, said_words(statements[0].chunk.text)
        floor = (statements[0].similarity or 0.0) - RESTATED_MARGIN
        later = [
            h for h in statements if str(h.chunk.created_at) > str(anchor.created_at) and (h.similarity or 0) >= floor
        ]
        # The stamp and author lines alone make two short messages alike (0.72 for "Tomás is our team lead" and
        # "on call this week: Priya"): a restatement also shares a word with what it restates.
        later = [h for h in later if said & said_words(h.chunk.text)]
        vector = self._vectors.vectors(guild_id, [anchor.chunk_id]).get(anchor.chunk_id) if later else None
        if vector is None:
            return hits
        alike = self._similarities(guild_id, [h.chunk.chunk_id for h in later], vector)
        restated = [h for h in later if alike.get(h.chunk.chunk_id, 0.0) >= RESTATEMENT]
        if not restated:
            return hits
        newest = max(restated, key=lambda h: str(h.chunk.created_at))
        return [newest, *(h for h in hits if h is not newest)]

    def _with_landmark(self, hits: list[Hit], guild_id: str, chunk_id: str, query_vector: Sequence[float]) -> list[Hit]:
        """The hits with the passage that dated the question's event second, after the best one."""
        landmark = self._chunks.chunks([chunk_id]).get(chunk_id)
        if landmark is None:
            return hits
        similarity = self._similarities(guild_id, [chunk_id], query_vector).get(chunk_id)
        rest = [h for h in hits if h.chunk.chunk_id != chunk_id]
        anchor = Hit(landmark, rest[0].score if rest else 0.0, similarity)
        return [*rest[:1], anchor, *rest[1:]]

    def _lookup(self, guild_id: str, names: list[str], allowed: list[str] | None, scope: TimeScope) -> list[Chunk]:
        """The passages holding any of these names, best first (linked documents' candidates), within what the
        question may see: its channels, what was said by its asking time, and a range given as dates."""
        limit = LOOKUP_LIMIT * len(names)
        found = self._keywords.with_phrases(guild_id, names, channels=allowed, limit=limit)
        chunks = self._chunks.chunks(found)
        seen = [chunks[i] for i in found if i in chunks and scope.said_by_then(chunks[i].created_at)]
        return [c for c in seen if scope.holds(c.created_at)] if scope.strict else seen

    def _near_floor(
        self, guild_id: str, chunk_ids: list[str], query_vector: Sequence[float], words: str, floor: float
    ) -> tuple[dict[str, float], set[str]]:
        """The keyword hits' similarity to the query, and those of them under the relevance floor that hold every
        word of the query (which the floor keeps)."""
        similarity = self._similarities(guild_id, chunk_ids, query_vector)
        # Checked only under the floor (most questions have none there), with a margin for the dense leg's rounding.
        under = [i for i in chunk_ids if i in similarity and similarity[i] < floor + FLOOR_MARGIN]
        return similarity, self._keywords.matching_all(guild_id, words, under)

    def _known(self, chunk_ids: list[str], read: dict[str, Chunk]) -> dict[str, Chunk]:
        """The records of these chunks by id (with those already `read`), reading only the ones not read yet."""
        return read | self._chunks.chunks([i for i in chunk_ids if i not in read])

    def _dense(
        self,
        guild_id: str,
        vector: Sequence[float],
        allowed: list[str] | None,
        widening: int = 1,
        read: dict[str, Chunk] | None = None,
    ) -> list[tuple[str, float]]:
        """The nearest passages in the allowed channels, best first (the records it had to read to filter them by
        channel are added to `read`)."""
        want = self._settings.candidates * widening
        if allowed is None:
            return self._vectors.query(guild_id, vector, want)
        # A metadata filter makes Chroma much slower (19 ms at 10k vectors, 109 ms at 100k, measured), so
        # query unfiltered and filter here; only when too few hits survive, ask Chroma to filter.
        unfiltered = self._vectors.query(guild_id, vector, want * 2)
        known = self._chunks.chunks([i for i, _ in unfiltered])
        if read is not None:
            read.update(known)
        kept = [(i, s) for i, s in unfiltered if i in known and known[i].channel_id in allowed]
        if len(kept) >= want or len(unfiltered) < want * 2:
            return kept[:want]
        return self._vectors.query(guild_id, vector, want, channels=allowed)

    def _with_neighbours(self, hits: list[Hit], allowed: list[str] | None) -> list[Hit]:
        seen = {h.chunk.chunk_id for h in hits}
        out: list[Hit] = []
        for hit in hits:
            out.append(hit)
            if hit.chunk.kind != "chat":
                continue
            for neighbour in self._chunks.neighbours(hit.chunk, self._settings.neighbours):
                if neighbour.chunk_id in seen or (allowed is not None and neighbour.channel_id not in allowed):
                    continue
                seen.add(neighbour.chunk_id)
                out.append(Hit(neighbour, round(hit.score / 2, 6), None, neighbour_of=hit.chunk.chunk_id))
        return out


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else utc_iso(moment)


def _topic_words(query: str) -> list[str]:
    return [w for w in words(query) if w not in STOPWORDS and w not in _GENERIC]


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    """Drop a chat window or message whose messages are all in better-ranked passages of the same channel."""
    covered: dict[str, set[str]] = {}
    out = []
    for hit in hits:
        chunk = hit.chunk
        if chunk.kind != "file":
            seen = covered.setdefault(chunk.channel_id, set())
            if chunk.message_ids and set(chunk.message_ids) <= seen:
                continue
            seen.update(chunk.message_ids)
        out.append(hit)
    return out
