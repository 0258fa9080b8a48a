"""A fake Discord (REST, gateway, interaction webhooks, CDN) on 127.0.0.1 for end-to-end tests with real discord.py."""

from tests.fakediscord.protocol import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    DEFAULT_PERMISSIONS,
    EMBED_LINKS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    USE_APPLICATION_COMMANDS,
    VIEW_CHANNEL,
)
from tests.fakediscord.server import FakeDiscord, FakeInteraction, RecordedRequest, point_discord_py_at

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "ATTACH_FILES",
    "DEFAULT_PERMISSIONS",
    "EMBED_LINKS",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MANAGE_THREADS",
    "READ_MESSAGE_HISTORY",
    "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS",
    "USE_APPLICATION_COMMANDS",
    "VIEW_CHANNEL",
    "FakeDiscord",
    "FakeInteraction",
    "RecordedRequest",
    "point_discord_py_at",
]
