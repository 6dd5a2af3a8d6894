"""Photo privacy: EXIF and GPS metadata never reach the attachment store."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

from suarawarga.bot.attachments import AttachmentStore, strip_metadata
from suarawarga.bot.messages import MediaKind
from tests.support.clock import JAKARTA


def photo_with_gps() -> bytes:
    """Return a JPEG carrying a camera model and a GPS position in its EXIF."""
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    exif = Image.Exif()
    exif[Base.Model] = "PhoneOfTheReporter"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "S"
    gps[GPS.GPSLatitude] = (0.0, 57.0, 1.5)
    gps[GPS.GPSLongitudeRef] = "E"
    gps[GPS.GPSLongitude] = (100.0, 21.0, 2.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_fixture_really_has_gps() -> None:
    """The test photo does carry the metadata the store must remove."""
    with Image.open(io.BytesIO(photo_with_gps())) as image:
        exif = image.getexif()
        assert exif[Base.Model] == "PhoneOfTheReporter"
        assert exif.get_ifd(IFD.GPSInfo)


def test_stored_photos_have_no_exif_or_gps(tmp_path: Path) -> None:
    """A photo saved to the store keeps its pixels but loses every EXIF and GPS field."""
    store = AttachmentStore(tmp_path)
    ref = store.save(photo_with_gps(), "image/jpeg", MediaKind.PHOTO, datetime(2026, 11, 28, tzinfo=JAKARTA))
    with Image.open(store.path_of(ref.path)) as image:
        assert dict(image.getexif()) == {}
        assert image.size == (40, 30)
        assert "exif" not in image.info


def test_non_images_are_kept_as_they_are() -> None:
    """Bytes that are not an image pass through unchanged."""
    assert strip_metadata(b"%PDF-1.4 not an image") == b"%PDF-1.4 not an image"


def test_attachment_paths_cannot_escape_the_store(tmp_path: Path) -> None:
    """A stored path that points outside the store is refused."""
    store = AttachmentStore(tmp_path / "files")
    try:
        store.path_of("../../etc/passwd")
    except ValueError:
        return
    raise AssertionError("a path outside the store was accepted")
