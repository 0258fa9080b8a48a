"""Thumbnail generation for Lighthouse: turns an original photo into grid and viewer previews."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Longest edge, in pixels. 256 for the timeline grid, 1024 for the full-screen viewer.
SIZES = (256, 1024)
JPEG_QUALITY = 82
HEIC_SUFFIXES = {".heic", ".heif"}


class ThumbnailError(Exception):
    """The original could not be turned into a thumbnail."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    size: int
    path: Path
    width: int
    height: int


def cache_key(original: bytes, size: int) -> str:
    """SHA-256 of the original plus the target size: a preview only changes if the original does."""
    digest = hashlib.sha256(original).hexdigest()
    return f"{digest}_{size}"


def cache_path(cache_dir: Path, key: str) -> Path:
    """Spread files over 256 subdirectories so no directory gets huge."""
    return cache_dir / key[:2] / f"{key}.jpg"


def _open(path: Path, *, heic_enabled: bool) -> Image.Image:
    if path.suffix.lower() in HEIC_SUFFIXES:
        if not heic_enabled:
            raise ThumbnailError(f"{path.name}: HEIC thumbnails are disabled (flag heic_thumbnails)")
        from pillow_heif import register_heif_opener  # optional dependency, needs libheif

        register_heif_opener()
    try:
        image = Image.open(path)
        image.load()
    except OSError as e:
        raise ThumbnailError(f"{path.name}: cannot decode ({e})") from e
    # Phones store portrait photos landscape plus an EXIF orientation tag; apply it.
    return ImageOps.exif_transpose(image)


def make_thumbnails(path: Path, cache_dir: Path, *, heic_enabled: bool = False) -> list[Thumbnail]:
    """Write one JPEG preview per size into cache_dir, reusing existing ones."""
    original = path.read_bytes()
    image = None
    result = []
    for size in SIZES:
        target = cache_path(cache_dir, cache_key(original, size))
        if not target.exists():
            if image is None:
                image = _open(path, heic_enabled=heic_enabled).convert("RGB")
            preview = image.copy()
            preview.thumbnail((size, size), Image.Resampling.LANCZOS)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            preview.save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True)
            tmp.replace(target)  # atomic, so a concurrent reader never sees half a file
            log.debug("wrote %s (%sx%s)", target, preview.width, preview.height)
        with Image.open(target) as done:
            result.append(Thumbnail(size, target, done.width, done.height))
    return result
