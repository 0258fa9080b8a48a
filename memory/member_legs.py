"""The member legs of a search: for a question that names a member or describes one, that member's own passages,
ranked against what is asked of them (the question without the name or the description)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from memory.described import descriptions
from memory.mentions import name_candidates, without_names
from memory.stores.interfaces import RecordStore
from memory.types import Chunk

DESCRIBED_LOOK = 5  # a description's best passages read to find who said them
DESCRIBED_MEMBERS = 2  # members followed from a description: its best match is often the asker's partner in the chat
DESCRIBED_FALLOFF = 2  # the second member's leg weighs 1/(1 + 2) of the first's (tuned on the conversations set)
MEMBER_WIDENING = 8  # a member's messages are taken from a dense search this many times wider than the usual

# The dense search a leg runs: (guild, query vector, allowed channels, widening, records read) -> (id, similarity).
Dense = Callable[[str, Sequence[float], "list[str] | None", int, dict[str, Chunk]], list[tuple[str, float]]]
Known = Callable[[list[str], dict[str, Chunk]], dict[str, Chunk]]  # records by id, reading only those not yet read


@dataclass(frozen=True)
class MemberLeg:
    """One member's passages for the fusion, best first, with its weight there and how like each passage is to what
    is asked of the member: the relevance floor judges a member's passage by that, since the name or description
    makes the whole question unlike the second fact it asks for ("just got back from Marrakesh" is under the floor
    for "where did the person who got engaged travel to?", above it for "where did travel to?")."""

    ids: list[str]
    weight: float
    similarity: dict[str, float] = field(default_factory=dict)


class MemberLegs:
    """Finds the members a question names or describes, and their own passages."""

    def __init__(
        self, records: RecordStore, embeddings: Embeddings, dense: Dense, known: Known, candidates: int, weight: float
    ) -> None:
        self._records = records
        self._embeddings = embeddings
        self._dense = dense
        self._known = known
        self._candidates = candidates
        self._weight = weight

    def legs(self, guild_id: str, query: str, allowed: list[str] | None) -> list[MemberLeg]:
        """The named members' leg, then a leg for each member followed from a description (none: no member)."""
        if not self._weight:  # 0 switches the member legs off, and their searches with them
            return []
        named = self._by_member(guild_id, query, allowed)
        return [*([named] if named.ids else []), *self._by_description(guild_id, query, allowed)]

    def _by_member(self, guild_id: str, query: str, allowed: list[str] | None) -> MemberLeg:
        """For a question that names members ("what is Priya into lately?"), their own messages, ranked by meaning
        against the question without the names. With the name left in, every message that says "Priya" ranks close
        (measured on the conversations set: the fact came in Priya's first ten messages for 37% of the questions
        naming a member, without the name for 72%). Taken from a dense search MEMBER_WIDENING times wider rather
        than a metadata filter, which Chroma does slowly."""
        named = self._records.members_named(guild_id, name_candidates(query))
        if not named:
            return MemberLeg([], self._weight)
        wide = self._widely(guild_id, without_names(query, named.values()) or query, allowed)
        theirs = {(author_id,) for author_id in named}  # passages said by one of them alone
        said = [(chunk.chunk_id, similarity) for chunk, similarity in wide if chunk.author_ids in theirs]
        said = said[: self._candidates]
        return MemberLeg([i for i, _ in said], self._weight, dict(said))

    def _by_description(self, guild_id: str, query: str, allowed: list[str] | None) -> list[MemberLeg]:
        """For a question that describes a member instead of naming them ("the pet of the member who got a drum
        kit"), one leg per member whose own words match the description best: their passage that matches it, then
        their messages ranked against what is asked."""
        readings = descriptions(query)
        if not readings:
            return []
        # One query embedding each: through the ONNX export that is ~5 ms a reading, a batch through torch ~47 ms.
        vectors = [self._embeddings.embed_query(reading.said) for reading in readings]
        # Where a description ends is a guess (memory/described.py): the reading whose best passage is closest wins.
        pairs = zip(readings, vectors, strict=True)
        read: dict[str, Chunk] = {}
        matched = [(self._dense(guild_id, vector, allowed, 1, read)[:DESCRIBED_LOOK], r) for r, vector in pairs]
        top, reading = max(((hits, r) for hits, r in matched if hits), key=lambda m: m[0][0][1], default=([], None))
        if reading is None:
            return []
        found = self._known([i for i, _ in top], read)
        first_match: dict[tuple[str, ...], tuple[str, float]] = {}  # each member who said a best passage alone
        for chunk_id, similarity in top:
            chunk = found.get(chunk_id)
            if chunk is not None and len(chunk.author_ids) == 1:
                first_match.setdefault(chunk.author_ids, (chunk_id, similarity))
        followed = list(first_match.items())[:DESCRIBED_MEMBERS]
        if not followed:  # the best passages are all of several voices: no one to follow, no wide search
            return []
        wide = self._widely(guild_id, reading.asked, allowed)
        legs = []
        for place, (author, (match, matched_by)) in enumerate(followed):
            said = [(chunk.chunk_id, s) for chunk, s in wide if chunk.author_ids == author and chunk.chunk_id != match]
            said = said[: self._candidates - 1]
            # The passage that matched the description is judged by how like the description it is.
            judged_by = {match: matched_by, **dict(said)}
            weight = self._weight / (1 + place * DESCRIBED_FALLOFF)
            legs.append(MemberLeg([match, *(i for i, _ in said)], weight, judged_by))
        return legs

    def _widely(self, guild_id: str, text: str, allowed: list[str] | None) -> list[tuple[Chunk, float]]:
        """The passages of a dense search for `text` MEMBER_WIDENING times wider than the usual, best first, with
        their similarity to it: what a member's own messages are picked from (a metadata filter on authors is slow
        in Chroma)."""
        read: dict[str, Chunk] = {}
        wide = self._dense(guild_id, self._embeddings.embed_query(text), allowed, MEMBER_WIDENING, read)
        chunks = self._known([i for i, _ in wide], read)
        return [(chunks[i], similarity) for i, similarity in wide if i in chunks]
