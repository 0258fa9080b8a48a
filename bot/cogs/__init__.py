"""The bot's extensions, loaded in this order by `MemoryBot.setup_hook`; each module ends with `setup(bot)`."""

EXTENSIONS = (
    "bot.cogs.live",  # remember what is said in remembered channels; catch up after a restart
    "bot.cogs.questions",  # /ask, /search, mentions and replies
    "bot.cogs.recaps",  # /recap
    "bot.cogs.privacy",  # /privacy and "Forget this message"
    "bot.cogs.admin",  # /memory for server admins
    "bot.cogs.retention",  # hourly expiry
)
