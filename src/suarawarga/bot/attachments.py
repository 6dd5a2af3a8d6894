"""The attachment store: files from citizens and officers, kept on disk outside any web-served path."""

from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
import uuid
from datetime import datetime
from pathlib import Path

from suarawarga.bot.messages import MediaKind, MediaRef

log = logging.getLogger(__name__)


def strip_metadata(data: bytes) -> bytes:
    """Return an image re-encoded without EXIF, GPS, XMP or comments (the pixels and orientation are kept).

    A photo's metadata can carry the exact place and the phone that took it: identifying for a confidential
    or anonymous reporter. Bytes that are not a readable image are returned unchanged.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fmt = image.format or "JPEG"
            upright = ImageOps.exif_transpose(image)  # keep how it looked, then drop the orientation tag too
            if upright.mode not in ("RGB", "RGBA", "L", "LA"):
                upright = upright.convert("RGBA" if "transparency" in upright.info else "RGB")
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            # A new image from the raw pixels carries no metadata at all.
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            out = io.BytesIO()
            options = {"quality": 90} if fmt == "JPEG" else {}
            clean.save(out, format=fmt, **options)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        return data


class AttachmentStore:
    """Saves bytes under a root directory by date and a random name; the database keeps only metadata."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, mime: str, kind: MediaKind, now: datetime) -> MediaRef:
        """Store the bytes (images without their EXIF/GPS metadata) and return a reference to them."""
        if mime.startswith("image/"):
            data = strip_metadata(data)
        extension = mimetypes.guess_extension(mime) or ".bin"
        relative = Path(f"{now:%Y}") / f"{now:%m}" / f"{uuid.uuid4().hex}{extension}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return MediaRef(
            kind=kind,
            path=relative.as_posix(),
            mime=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )

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
