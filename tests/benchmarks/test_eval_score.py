"""The evaluation harness's scoring: recall of evidence groups, all found, the first passage's evidence, and
whether the first passage is from the right time (evidence, or said in the range a question asks about)."""

from __future__ import annotations

from benchmarks.eval import _first_said, score
from benchmarks.evalsets import EvalQuestion

MAY = ("2025-05-01T00:00:00.000000+00:00", "2025-06-01T00:00:00.000000+00:00")


def question(window: tuple[str, str] | None = MAY) -> EvalQuestion:
    gold = (frozenset({"m1", "m2"}), frozenset({"m9"}))
    return EvalQuestion("q", "what changed in May?", "in-month", gold, "2025-06-10T09:00:00+00:00", window=window)


def test_recall_all_found_and_first():
    """Each group is found by any one of its ids; the first passage counts only when it holds evidence."""
    result = score(question(), [{"m7"}, {"m2"}])
    assert result.recall == 0.5 and not result.all_found and not result.first
    result = score(question(), [{"m9"}, {"m1", "m3"}])
    assert result.recall == 1.0 and result.all_found and result.first and result.right_time


def test_a_first_passage_said_in_the_range_is_from_the_right_time():
    """Not evidence, but said in May: from the right time; said on June 1 (the range's end is open): not."""
    said_in_may = score(question(), [{"m7"}], said_at=["2025-05-31T23:59:00+00:00"])
    assert not said_in_may.first and said_in_may.right_time
    said_in_june = score(question(), [{"m7"}], said_at=["2025-06-01T00:00:00+00:00"])
    assert not said_in_june.right_time
    only_the_second_in_may = score(question(), [{"m7"}, {"m8"}], said_at=["2025-04-30T10:00:00+00:00", MAY[0]])
    assert not only_the_second_in_may.right_time


def test_without_a_range_the_right_time_is_the_evidence():
    """ "Now" or "the first time" name no range: only evidence first is from the right time."""
    assert not score(question(None), [{"m7"}], said_at=["2025-05-10T10:00:00+00:00"]).right_time
    assert score(question(None), [{"m1"}], said_at=["2025-01-10T10:00:00+00:00"]).right_time


def test_the_naive_pipeline_passage_is_dated_by_its_first_whole_line():
    """A transcript piece may start mid-line (the splitter's overlap): its first stamped line dates it."""
    text = "ek, I'm off\n[2025-05-02 09:15] Ana: standup moved\n[2025-05-02 09:20] Ben: ok"
    assert _first_said(text) == "2025-05-02T09:15:00+00:00"
    assert _first_said("no stamp here") is None


def test_a_seed_builds_a_fresh_draw_of_the_generated_sets():
    """`--seed` gives each generated set another chat and other questions; without it, each set's own seed."""
    from benchmarks.eval import load_sets
    from benchmarks.evalsets.timeline import build

    [own] = load_sets(["timeline"], quick=True)
    [fresh] = load_sets(["timeline"], quick=True, seed=6)
    assert own.questions == build().questions[::4]
    assert fresh.questions == build(6).questions[::4] and fresh.messages != own.messages
