"""The attachment store and the intake of files from chats: checked, re-encoded, kept outside any web-served path.

A file a chat sends stays at the platform until a step accepts it (`MediaIntake.accept_image`): only then is it
downloaded, decoded under a pixel cap (a few at a time), re-encoded without any metadata, downscaled, and
written to the drafts area. What a flow files is kept (`AttachmentStore.keep`) under `YYYY/MM/`; a draft's files
are deleted when the draft is cancelled or expires, and the daily `files` job removes what no row references.
Whatever cannot be decoded is refused and never stored: an image is only ever stored as a fresh encoding.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import mimetypes
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from suarawarga.bot.messages import ChannelName, IncomingFile, MediaKind, MediaRef
from suarawarga.errors import UserInputError

log = logging.getLogger(__name__)

DRAFTS = "drafts"  # the temporary area: files of drafts not filed yet
MB = 1024 * 1024
# Formats a photo may arrive in; Pillow's other decoders (PSD, EPS, ICO, ...) are never reached by chat input.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO", "HEIF", "AVIF")
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}


class MediaRefused(UserInputError):
    """A file the step cannot take (unreadable, too large, over a quota): the chat is told why and asked again."""


@dataclass(frozen=True, slots=True)
class ImageRules:
    """Limits on the images chats send (from the settings)."""

    max_pixels: int = 40_000_000  # decoded size is checked from the header, before any pixel is decoded
    max_side: int = 2560  # longer images are downscaled to this many pixels on their long side
    max_bytes: int = 20 * MB  # the most a file may weigh when downloaded
    parallel: int = 2  # images decoded at once in a process (memory: about max_pixels x 4 bytes each)
    chat_quota: int = 25 * MB  # the most one chat's unfiled drafts may hold
    total_quota: int = 10 * 1024 * MB  # the most the whole attachment store may hold
    min_free: int = 512 * MB  # free disk space that must remain after a file is stored
    jpeg_quality: int = 85


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - a dependency; without it HEIC photos are refused as unreadable
        return
    register_heif_opener()


_heif_once = threading.Lock()
_heif_done = False


_formats: tuple[str, ...] = ()


def _decoders() -> tuple[str, ...]:
    """Return the photo formats this Pillow can open (HEIF once pillow-heif is registered), set up once."""
    global _heif_done, _formats
    with _heif_once:
        if not _heif_done:
            from PIL import Image

            _register_heif()
            Image.init()
            # Pillow warns from 89 MP, on stderr; the configured cap, checked before decoding, decides instead.
            warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
            _formats = tuple(f for f in IMAGE_FORMATS if f in Image.OPEN)
            _heif_done = True
    return _formats


def reencode_image(data: bytes, rules: ImageRules) -> tuple[bytes, str, tuple[int, int]]:
    """Return (bytes, mime, size) of a fresh JPEG/PNG holding only the image's pixels, upright and downscaled.

    Fails closed: a file Pillow cannot fully decode (truncated, not an image, an unknown format) raises
    MediaRefused("media.unreadable"); one with more pixels than the cap raises MediaRefused("media.too_many_pixels")
    before its pixels are decoded. No EXIF, GPS, XMP, ICC or comment survives: the output is built from raw pixels.
    """
    from PIL import Image

    too_many = MediaRefused("media.too_many_pixels", max=str(rules.max_pixels // 1_000_000))
    try:
        with Image.open(io.BytesIO(data), formats=_decoders()) as image:
            width, height = image.size
            if width < 1 or height < 1:
                raise MediaRefused("media.unreadable")
            if width * height > rules.max_pixels:
                raise too_many
            orientation = image.getexif().get(ORIENTATION, 1)
            # JPEG: decode at the smallest scale (1/2, 1/4, 1/8) still at least as large as the stored size.
            scale = min(1.0, rules.max_side / max(width, height))
            image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
            mode = "RGBA" if has_alpha else "RGB"
            pixels = image if image.mode == mode else image.convert(mode)  # no copy when already RGB(A)
            if max(pixels.size) > rules.max_side:
                pixels.thumbnail((rules.max_side, rules.max_side), Image.Resampling.LANCZOS)  # in place
            if orientation in _TRANSPOSE:  # keep how the photo looked, without keeping the tag that said so
                pixels = pixels.transpose(Image.Transpose(_TRANSPOSE[orientation]))
            # A new image from the raw pixels carries no metadata at all.
            clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
            del pixels
    except MediaRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many from None
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, IndexError, TypeError, MemoryError):
        raise MediaRefused("media.unreadable") from None  # anything Pillow cannot fully decode is never stored
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG")
        mime = "image/png"
    else:
        clean.save(out, format="JPEG", quality=rules.jpeg_quality, optimize=True)
        mime = "image/jpeg"
    return out.getvalue(), mime, clean.size


ORIENTATION = 0x0112  # EXIF tag: how the camera was held
_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}  # orientation -> PIL.Image.Transpose value


class AttachmentStore:
    """Saves bytes under a root directory by date and a random name; the database keeps only metadata."""

    def __init__(self, root: Path, rules: ImageRules | None = None) -> None:
        self.root = root
        self.rules = rules or ImageRules()
        self._decoding = threading.BoundedSemaphore(max(self.rules.parallel, 1))
        self._usage: tuple[float, int] | None = None  # (when measured, bytes) of the whole store
        self._usage_lock = threading.Lock()

    def save(self, data: bytes, mime: str, kind: MediaKind, now: datetime) -> MediaRef:
        """Store a file under YYYY/MM (an image only as a fresh encoding without metadata) and return its reference."""
        if mime.startswith("image/") or kind is MediaKind.PHOTO:
            data, mime, _ = self.reencode(data)
        return self._write(Path(f"{now:%Y}") / f"{now:%m}", data, mime, kind)

    def save_draft_image(self, data: bytes) -> MediaRef:
        """Re-encode an image and keep it in the drafts area until its flow files or drops it."""
        clean, mime, _ = self.reencode(data)
        return self._write(Path(DRAFTS), clean, mime, MediaKind.PHOTO)

    def reencode(self, data: bytes) -> tuple[bytes, str, tuple[int, int]]:
        """Re-encode an image, at most `rules.parallel` at a time in this process (each may take ~160 MB)."""
        with self._decoding:
            return reencode_image(data, self.rules)

    def _write(self, folder: Path, data: bytes, mime: str, kind: MediaKind) -> MediaRef:
        extension = _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin"
        relative = folder / f"{uuid.uuid4().hex}{extension}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self._grew(len(data))
        return MediaRef(
            kind=kind,
            path=relative.as_posix(),
            mime=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def keep(self, path: str, now: datetime) -> str:
        """Return the permanent path of a file a flow files: a draft is linked under YYYY/MM (the draft goes later)."""
        if not is_draft(path):
            return path
        source = self.path_of(path)
        relative = Path(f"{now:%Y}") / f"{now:%m}" / source.name
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except FileExistsError:
            pass  # kept before by a run of the same step that was then rolled back: same bytes
        except OSError:
            shutil.copyfile(source, target)
        return relative.as_posix()

    def delete_all(self, paths: list[str]) -> None:
        """Delete stored files (missing ones are fine: erasure may run twice)."""
        for item in paths:
            try:
                self.path_of(item).unlink(missing_ok=True)
            except (OSError, ValueError):
                log.warning("could not delete an erased attachment")

    def path_of(self, ref_path: str) -> Path:
        """Return the absolute path of a stored file, refusing paths that leave the store."""
        target = (self.root / ref_path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError("attachment path outside the store")
        return target

    # ------------------------------------------------------------------ quotas

    def check_room(self, size: int, chat_holds: int) -> None:
        """Refuse a file of `size` bytes when the chat's drafts or the store would go over their quota."""
        rules = self.rules
        if chat_holds + size > rules.chat_quota:
            raise MediaRefused("media.quota_chat")
        if self.usage() + size > rules.total_quota:
            log.warning("attachment store is over its total quota of %d MB: files are refused", rules.total_quota // MB)
            raise MediaRefused("media.quota_total")
        self.root.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(self.root).free - size < rules.min_free:
            log.warning("less than %d MB free on the attachment disk: files are refused", rules.min_free // MB)
            raise MediaRefused("media.quota_total")

    def usage(self, max_age: float = 600.0) -> int:
        """Return the bytes the store holds (measured at most every `max_age` seconds, plus what was written since)."""
        with self._usage_lock:
            if self._usage is not None and time.monotonic() - self._usage[0] < max_age:
                return self._usage[1]
        total = sum(size for _, size, _ in self.files())
        with self._usage_lock:
            self._usage = (time.monotonic(), total)
        return total

    def _grew(self, size: int) -> None:
        with self._usage_lock:
            if self._usage is not None:
                self._usage = (self._usage[0], self._usage[1] + size)

    def files(self, area: str | None = None) -> Iterator[tuple[str, int, float]]:
        """Yield (relative path, size, modified at) of every stored file (of one top-level folder, if given)."""
        start = self.root / area if area else self.root
        if not start.is_dir():
            return
        for folder, _, names in os.walk(start):
            for name in names:
                full = Path(folder) / name
                try:
                    info = full.stat()
                except OSError:
                    continue
                yield full.relative_to(self.root).as_posix(), info.st_size, info.st_mtime


def is_draft(path: str) -> bool:
    """Tell whether a stored path is in the drafts area."""
    return path.startswith(DRAFTS + "/")


def draft_paths(data: Any) -> set[str]:
    """Return every drafts-area path a flow's data holds (in attachment records, at any depth)."""
    found: set[str] = set()
    if isinstance(data, dict):
        for value in data.values():
            found |= draft_paths(value)
    elif isinstance(data, list):
        for value in data:
            found |= draft_paths(value)
    elif isinstance(data, str) and is_draft(data):
        found.add(data)
    return found


Fetch = Callable[[IncomingFile, int], Awaitable[bytes]]


class MediaIntake:
    """Turns a file a chat sent into a stored, re-encoded image, only when a step accepts it."""

    def __init__(self, store: AttachmentStore) -> None:
        self.store = store
        self.fetchers: dict[ChannelName, Fetch] = {}  # each channel registers how to download its files

    async def accept_image(self, channel: ChannelName, item: IncomingFile, chat_holds: int) -> MediaRef:
        """Download, check and re-encode an image into the drafts area; MediaRefused says why it cannot be taken."""
        rules = self.store.rules
        if item.size is not None and item.size > rules.max_bytes:
            raise MediaRefused("media.too_large", max=str(rules.max_bytes // MB))
        await asyncio.to_thread(self.store.check_room, item.size or 0, chat_holds)
        fetch = self.fetchers.get(channel)
        if fetch is None:
            raise MediaRefused("media.unavailable")
        data = await fetch(item, rules.max_bytes)
        if len(data) > rules.max_bytes:
            raise MediaRefused("media.too_large", max=str(rules.max_bytes // MB))
        ref = await asyncio.to_thread(self.store.save_draft_image, data)
        if chat_holds + ref.size > rules.chat_quota:
            self.store.delete_all([ref.path])
            raise MediaRefused("media.quota_chat")
        return ref
