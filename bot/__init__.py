"""memorybot's front ends on the memory library: the `memorybot` command line and the Discord bot."""
