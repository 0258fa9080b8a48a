"""`python -m bot`: the same command line as `memorybot`."""

from bot.cli import main

raise SystemExit(main())
