"""The bot's cogs: live memory of channels, and answers (/ask, /search, mentions)."""
