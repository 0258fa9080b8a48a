"""Operations: the `/healthz` and `/metrics` endpoint of `memorybot run`, its probe, and the log format."""
