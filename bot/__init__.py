"""memorybot's front ends: the command line today, the Discord bot on top of the same memory."""
