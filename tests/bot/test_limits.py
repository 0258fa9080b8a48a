"""The rate limits of questions and recaps (bot/limits.py) on a clock the test moves: no sleeps."""

from __future__ import annotations

from bot.config import BotLimitSettings
from bot.limits import RateLimits, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limits(clock: Clock, **values: int) -> RateLimits:
    return RateLimits(BotLimitSettings(**values), clock=clock)


def test_a_member_over_the_limit_is_told_when_to_retry_and_is_let_in_then():
    """Two questions a minute: the third waits for the first to leave the window, and is then allowed."""
    clock = Clock()
    rate = limits(clock, asks_per_member_per_minute=2, asks_per_guild_per_minute=0)
    assert rate.check("ask", 1, 10) is None
    clock.now += 20
    assert rate.check("ask", 1, 10) is None
    clock.now += 10
    refusal = rate.check("ask", 1, 10)
    assert refusal is not None and refusal.scope == "member" and refusal.retry_after == 30.0
    assert refusal.message() == "⏳ You have reached the limit of 2 questions a minute. Please try again in 30 seconds."
    assert rate.check("ask", 2, 10) is None  # the same person in another guild is another member
    clock.now += 30
    assert rate.check("ask", 1, 10) is None


def test_a_refused_request_costs_nothing():
    """Refusals are not counted: asking again and again while refused does not push the retry time back."""
    clock = Clock()
    rate = limits(clock, asks_per_member_per_minute=1, asks_per_guild_per_minute=0)
    assert rate.check("ask", 1, 10) is None
    for _ in range(5):
        clock.now += 10
        assert rate.check("ask", 1, 10) is not None
    clock.now += 10  # 60 s after the one counted question
    assert rate.check("ask", 1, 10) is None


def test_the_guild_limit_holds_across_members_and_kinds_are_apart():
    """Three questions a minute per guild, whoever asks; recaps have their own limits."""
    clock = Clock()
    rate = limits(clock, asks_per_member_per_minute=5, asks_per_guild_per_minute=3, recaps_per_member_per_minute=1)
    assert [rate.check("ask", 1, member) for member in (10, 11, 12)] == [None, None, None]
    refusal = rate.check("ask", 1, 13)
    assert refusal is not None and refusal.scope == "guild" and refusal.message().startswith("⏳ This server has")
    assert rate.check("ask", 2, 13) is None  # another guild's budget
    assert rate.check("recap", 1, 13) is None
    refused = rate.check("recap", 1, 13)
    assert refused is not None and "1 recap a minute" in refused.message()


def test_zero_means_no_limit():
    """A limit of 0 never refuses and remembers nobody."""
    clock = Clock()
    rate = limits(clock, asks_per_member_per_minute=0, asks_per_guild_per_minute=0)
    assert all(rate.check("ask", 1, 10) is None for _ in range(500))
    assert rate.tracked() == 0


def test_what_is_remembered_about_askers_is_bounded():
    """A flood of distinct members keeps at most max_keys of them; the most recent stay limited."""
    clock = Clock()
    window = SlidingWindow(1, clock=clock, max_keys=100)
    for member in range(1000):
        window.take(member)
    assert len(window) == 100
    assert window.wait(999) > 0 and window.wait(0) == 0.0  # the oldest were forgotten, the newest are held
    assert window.wait(5000) == 0.0 and len(window) == 100  # asking about a stranger remembers nothing


def test_a_refused_mention_is_answered_once_a_minute():
    """`tell` is true for the first refusal of a minute only."""
    clock = Clock()
    rate = limits(clock)
    assert [rate.tell(1, 10), rate.tell(1, 10), rate.tell(1, 11)] == [True, False, True]
    clock.now += 60
    assert rate.tell(1, 10)
