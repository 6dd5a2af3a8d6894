"""The attachment store: files from citizens and officers, kept on disk outside any web-served path."""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from datetime import datetime
from pathlib import Path

from suarawarga.bot.messages import MediaKind, MediaRef


class AttachmentStore:
    """Saves bytes under a root directory by date and a random name; the database keeps only metadata."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, mime: str, kind: MediaKind, now: datetime) -> MediaRef:
        """Store the bytes and return a reference to them."""
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

    def path_of(self, ref_path: str) -> Path:
        """Return the absolute path of a stored file, refusing paths that leave the store."""
        target = (self.root / ref_path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError("attachment path outside the store")
        return target
