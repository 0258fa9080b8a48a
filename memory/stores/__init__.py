"""Where memory is kept: the store interfaces, and their SQLite and Chroma implementations."""
