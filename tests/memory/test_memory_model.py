"""A Hypothesis state machine drives the real `Memory` (SQLite and embedded Chroma on one data directory) and a
plain model of what it should hold, through creates, edits, late replays, deletes, bulk deletes, forgetting a
member, opt-out and opt-in, a change of the channels an asker may see, and restarts. After every step: the store
holds exactly the model's messages, chunks and vectors hold only live messages, a search shows only what the
asker may see (and finds what it may), and the text of every erased or edited-away message is in no file."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from memory import ChatMessage, Memory, utc_iso
from tests.conftest import files_containing, make_settings
from tests.fakes import START, HashEmbeddings, message

GUILDS = ("g1", "g2")
CHANNELS = ("c1", "c2", "c3")
AUTHORS = ("u1", "u2", "u3")
MARKER = re.compile(r"\bMk\d+Q\b", re.IGNORECASE)  # mixed case: the keyword index keeps them lower-cased
SEARCHED = 8  # markers searched after each step, the newest (live and erased): enough to cover what just changed


def marker(number: int) -> str:
    return f"Mk{number}Q"


@dataclass(frozen=True)
class Held:
    """The model's view of one live message: what Discord holds and memory should too."""

    message: ChatMessage
    marker: str
    older: tuple[ChatMessage, ...] = ()  # its earlier versions, which a late read of history may bring back


class MemoryModel(RuleBasedStateMachine):
    """The real memory against a model; an asker's view is the set of channels each guild lets them see."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="memory-model-"))
        self.data_dir = self.tmp / "data"
        self.memory = self._open()
        self.live: dict[tuple[str, str], Held] = {}  # (guild, message id) -> the live message
        self.erased: dict[tuple[str, str], ChatMessage] = {}  # deleted or forgotten: never stored again
        self.gone_markers: list[str] = []  # text that must be in no file (erased, or edited away)
        self.just_gone: list[str] = []  # gone in the last step: checked with the index's own terms too
        self.opted_out: set[str] = set()
        self.visible: dict[str, frozenset[str] | None] = dict.fromkeys(GUILDS)  # None: every channel
        self.numbers = 0  # message numbers (ids and times follow from them) and markers, never reused

    def _open(self) -> Memory:
        return Memory.open(make_settings(self.data_dir), embeddings=HashEmbeddings())

    def teardown(self) -> None:
        self.memory.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- rules ------------------------------------------------------------------------------------------

    @initialize()
    def seed(self) -> None:
        """Something in every guild's channels, so that searches start with candidates to leak."""
        self._remember([self._new(guild, channel, AUTHORS[i % 3]) for i, (guild, channel) in
                        enumerate((g, c) for g in GUILDS for c in CHANNELS)])  # fmt: skip

    @rule(
        places=st.lists(st.tuples(st.sampled_from(GUILDS), st.sampled_from(CHANNELS), st.sampled_from(AUTHORS)),
                        min_size=1, max_size=4),
    )  # fmt: skip
    def create(self, places: list[tuple[str, str, str]]) -> None:
        """New messages, several in one batch as a gateway batch or a history page brings them."""
        self._remember([self._new(*place) for place in places])

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        """An edit gives a message a new marker; an opted-out author's edit is not stored (the old text stays)."""
        key = data.draw(st.sampled_from(sorted(self.live)))
        held = self.live[key]
        self.numbers += 1
        new = marker(self.numbers)
        edited = replace(held.message, content=f"edited to {new} words", edited_at=self._time(10_000))
        if edited.author_id not in self.opted_out:
            self.live[key] = Held(edited, new, (*held.older, held.message))
            self._gone(held.marker)
        self.memory.remember_messages([edited])

    @precondition(lambda self: any(h.older for h in self.live.values()) or self.erased)
    @rule(data=st.data())
    def replay_old_version(self, data: st.DataObject) -> None:
        """A history page read before an edit or a delete arrives after it: nothing changes."""
        old = [(k, h.older[-1]) for k, h in sorted(self.live.items()) if h.older] + sorted(self.erased.items())
        _, version = data.draw(st.sampled_from(old))
        self.memory.remember_messages([version])

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """A message deleted in Discord."""
        key = data.draw(st.sampled_from(sorted(self.live)))
        self._erase([key])
        self.memory.delete_messages(key[0], [key[1]])

    @precondition(lambda self: self.live)
    @rule(data=st.data(), guild=st.sampled_from(GUILDS), unknown=st.booleans())
    def bulk_delete(self, data: st.DataObject, guild: str, unknown: bool) -> None:
        """A bulk delete of some of a guild's messages, perhaps with ids memory never held."""
        keys = sorted(k for k in self.live if k[0] == guild)
        chosen = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=5)) if keys else []
        self._erase(chosen)
        ids = [i for _, i in chosen] + (["999999999"] if unknown else [])
        self.memory.delete_messages(guild, ids)

    @rule(author=st.sampled_from(AUTHORS))
    def forget_user(self, author: str) -> None:
        """`/privacy forget-me`: every message of theirs, in every guild, never stored again."""
        self._erase([k for k, h in self.live.items() if h.message.author_id == author])
        self.memory.forget_user_everywhere(author)

    @rule(author=st.sampled_from(AUTHORS), out=st.booleans())
    def opt_out_or_in(self, author: str, out: bool) -> None:
        """`/privacy opt-out` (what they write next is not remembered, the past stays) or `opt-in`."""
        if out:
            self.opted_out.add(author)
            self.memory.opt_outs.add(author)
        else:
            self.opted_out.discard(author)
            self.memory.opt_outs.remove(author)

    @rule(guild=st.sampled_from(GUILDS), channels=st.none() | st.frozensets(st.sampled_from(CHANNELS)))
    def change_permissions(self, guild: str, channels: frozenset[str] | None) -> None:
        """The asker's roles or a channel's overwrites change: they see these channels now (None: all)."""
        self.visible[guild] = channels

    @rule()
    def restart(self) -> None:
        """The process stops and starts again on the same data directory."""
        self.memory.close()
        self.memory = self._open()

    # --- invariants ---------------------------------------------------------------------------------------

    @invariant()
    def the_store_holds_the_model(self) -> None:
        """Exactly the live messages, each with its last stored version (ids, text, channel, author)."""
        records = self.memory.stores.records
        for guild in GUILDS:
            held = {m.message_id: m for m in records.messages(guild, records.message_ids_where(guild))}
            wanted = {i: h.message for (g, i), h in self.live.items() if g == guild}
            extra, missing = set(held) - set(wanted), set(wanted) - set(held)
            assert not extra and not missing, f"{guild}: extra {extra}, missing {missing}"
            for i, m in held.items():
                w = wanted[i]
                assert (m.content, m.channel_id, m.author_id) == (w.content, w.channel_id, w.author_id), i

    @invariant()
    def chunks_and_vectors_hold_only_live_messages(self) -> None:
        """Every chunk is of live messages of its own channel and holds only their markers; one vector a chunk."""
        chunks = self.memory.stores.chunks
        for guild in GUILDS:
            held = chunks.chunks(chunks.guild_chunk_ids(guild))
            for chunk in held.values():
                for i in chunk.message_ids:
                    assert (guild, i) in self.live and self.live[(guild, i)].message.channel_id == chunk.channel_id
                own = {self.live[(guild, i)].marker.lower() for i in chunk.message_ids}
                assert {m.lower() for m in MARKER.findall(chunk.text)} <= own, chunk.chunk_id
            live_markers = {h.marker.lower() for (g, _), h in self.live.items() if g == guild}
            found = {m.lower() for c in held.values() for m in MARKER.findall(c.text)}
            assert found == live_markers, f"{guild}: not in any chunk {live_markers - found}"
            assert self.memory.vectors.count(guild) == len(held)

    @invariant()
    def search_shows_only_what_the_asker_may_see(self) -> None:
        """A marker's search, in each guild as the asker sees it: hits only in visible channels, of live messages,
        holding only visible markers; a live, visible marker of that guild is found."""
        newest = sorted({h.marker for h in self.live.values()} | set(self.gone_markers), key=_number)[-SEARCHED:]
        for guild in GUILDS:
            channels = self.visible[guild]
            shown = {h.marker.lower() for (g, _), h in self.live.items()
                     if g == guild and (channels is None or h.message.channel_id in channels)}  # fmt: skip
            for word in newest:
                hits = self.memory.search(word, guild, channels=None if channels is None else sorted(channels),
                                          max_sources=50).hits  # fmt: skip
                seen: set[str] = set()
                for hit in hits:
                    assert hit.chunk.guild_id == guild
                    assert channels is None or hit.chunk.channel_id in channels, (word, hit.chunk.channel_id)
                    assert all((guild, i) in self.live for i in hit.chunk.message_ids), word
                    seen |= {m.lower() for m in MARKER.findall(hit.chunk.text)}
                assert seen <= shown, f"{guild} as {channels}: {seen - shown} shown"
                if word.lower() in shown:
                    assert word.lower() in seen, f"{word} is live and visible in {guild} but not found"

    @invariant()
    def erased_text_is_in_no_file(self) -> None:
        """Every erased or edited-away marker is in no file of the data directory, as written or lower-cased; what
        the last step erased is also looked for as the keyword index's own terms (`files_containing`)."""
        files = [p.read_bytes() for p in self.data_dir.rglob("*") if p.is_file()]
        for word in self.gone_markers:
            for needle in (word.encode(), word.lower().encode()):
                assert not any(needle in raw for raw in files), f"{word} is still on disk"
        for word in self.just_gone:
            assert files_containing(self.data_dir, word.encode()) == [], f"{word} is still on disk"
        self.just_gone = []

    # --- helpers ------------------------------------------------------------------------------------------

    def _time(self, offset_minutes: int) -> str:
        return utc_iso(START + timedelta(minutes=offset_minutes + self.numbers))

    def _new(self, guild: str, channel: str, author: str) -> ChatMessage:
        self.numbers += 1
        text = f"{author} says {marker(self.numbers)} in {channel}"
        return message(self.numbers, text, guild=guild, channel=channel, author=author)

    def _remember(self, messages: list[ChatMessage]) -> None:
        for m in messages:
            if m.author_id not in self.opted_out:
                self.live[(m.guild_id, m.message_id)] = Held(m, MARKER.findall(m.content)[0])
        self.memory.remember_messages(messages)

    def _erase(self, keys: list[tuple[str, str]]) -> None:
        for key in keys:
            held = self.live.pop(key)
            self.erased[key] = held.message
            self._gone(held.marker)

    def _gone(self, word: str) -> None:
        self.gone_markers.append(word)
        self.just_gone.append(word)


def _number(word: str) -> int:
    return int(word[2:-1])


MemoryModel.TestCase.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_memory_against_its_model = MemoryModel.TestCase
