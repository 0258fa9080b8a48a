"""The bot's exceptions, and the one place where any known error becomes a sentence for a member.

BotError
└── StartupError   the bot cannot start: the token is missing or refused, or a privileged intent is off

The memory library's errors (`memory.MemoryStoreError` and its tree, see `memory/errors.py`) are known too: their
messages are written to be shown. Anything else is a bug: logged with its traceback, and the member gets an apology.
"""

from __future__ import annotations

from memory import MemoryStoreError

APOLOGY = "Something went wrong on my side. Please try again later."


class BotError(Exception):
    """Root of every error the bot raises on purpose."""


class StartupError(BotError):
    """The bot cannot start; the message says what to fix."""


def user_message(error: BaseException) -> str | None:
    """What to tell the member about an error, or None when it is a bug (log it and apologise)."""
    # Imported here: the command line catches `BotError` and must not pay for discord's import (~0.5 s).
    from discord import app_commands

    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.CheckFailure):  # a refusal, not a fault
        return str(error) or "You cannot use this command here."
    if isinstance(error, app_commands.TransformerError):  # an option Discord (or a crafted request) gave from elsewhere
        kind = error.type.name.replace("_", " ")
        return f"That {kind} is not one this command can use here: pick one of this server's."
    if isinstance(error, MemoryStoreError | BotError):
        return str(error)
    return None
