"""Photo privacy and safety: only fresh encodings without metadata are stored; bombs and non-images are refused."""

from __future__ import annotations

import io
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from PIL.ExifTags import IFD, Base

from suarawarga.bot.attachments import AttachmentStore, ImageRules, MediaRefused, reencode_image
from suarawarga.bot.messages import MediaKind
from tests.support.clock import JAKARTA
from tests.support.images import (
    MODEL,
    bomb_png,
    exif_of,
    heic_with_gps,
    jpeg_with_gps,
    png,
    truncated_jpeg_with_gps,
)

NOW = datetime(2026, 11, 28, tzinfo=JAKARTA)


def test_the_fixtures_really_have_gps() -> None:
    """The test photos (JPEG, HEIC, truncated JPEG) do carry the metadata the store must remove."""
    for data in (jpeg_with_gps(), heic_with_gps(), truncated_jpeg_with_gps()):
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            assert exif[Base.Model] == MODEL
            assert exif.get_ifd(IFD.GPSInfo)


@pytest.mark.parametrize("make", [jpeg_with_gps, heic_with_gps], ids=["jpeg", "heic"])
def test_stored_photos_are_fresh_encodings_without_exif_or_gps(tmp_path: Path, make: object) -> None:
    """A JPEG or an HEIC photo is stored as a new JPEG of the same picture, with no EXIF, GPS or camera model."""
    assert callable(make)
    original = make()
    store = AttachmentStore(tmp_path)
    ref = store.save(original, "image/heic" if original[4:12] == b"ftypheic" else "image/jpeg", MediaKind.PHOTO, NOW)
    stored = store.path_of(ref.path).read_bytes()
    assert exif_of(stored) == {}
    assert MODEL.encode() not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert "exif" not in image.info
        with Image.open(io.BytesIO(original)) as source:
            assert image.size == source.size
    assert (ref.mime, ref.path.endswith(".jpg")) == ("image/jpeg", True)


@pytest.mark.parametrize(
    "data",
    [truncated_jpeg_with_gps(), b"hello, world\n", b"%PDF-1.4 not an image", b"\xff\xd8\xff\xe0 fake jpeg"],
    ids=["truncated-jpeg", "13-byte-text", "pdf", "jpeg-magic-only"],
)
def test_what_cannot_be_decoded_is_refused_and_never_stored(tmp_path: Path, data: bytes) -> None:
    """Fail closed: a truncated JPEG (EXIF intact) or a non-image sent as a photo is refused; nothing is written."""
    store = AttachmentStore(tmp_path)
    with pytest.raises(MediaRefused) as refused:
        store.save(data, "image/jpeg", MediaKind.PHOTO, NOW)
    assert refused.value.text_key == "media.unreadable"
    with pytest.raises(MediaRefused):
        store.save_draft_image(data)
    assert list(store.files()) == []


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    """A 500 kB PNG of 169 megapixels is refused before its pixels are decoded (quickly, without the memory)."""
    bomb = bomb_png()
    assert len(bomb) < 600_000
    started = time.perf_counter()
    with pytest.raises(MediaRefused) as refused:
        reencode_image(bomb, ImageRules(max_pixels=40_000_000))
    assert refused.value.text_key == "media.too_many_pixels"
    assert refused.value.params == {"max": "40"}
    assert time.perf_counter() - started < 2.0  # decoding it would take seconds and 676 MB


def test_the_pixel_cap_is_the_settings_not_pillows() -> None:
    """An image under Pillow's own limit but over the configured cap is refused too."""
    with pytest.raises(MediaRefused):
        reencode_image(png((300, 200)), ImageRules(max_pixels=50_000))
    _, mime, size = reencode_image(png((300, 200)), ImageRules(max_pixels=60_000))
    assert (mime, size) == ("image/jpeg", (300, 200))


def test_large_photos_are_downscaled_on_the_long_side() -> None:
    """A 4000 x 3000 photo is stored at 2560 x 1920 (the configured long side), upright and without metadata."""
    data, mime, size = reencode_image(jpeg_with_gps((4000, 3000)), ImageRules(max_side=2560))
    assert (mime, size) == ("image/jpeg", (2560, 1920))
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (2560, 1920)
        assert exif_of(data) == {}


def test_a_photo_taken_sideways_is_stored_upright_without_the_orientation_tag() -> None:
    """EXIF orientation 6 (camera turned) is applied to the pixels; the stored file has no tag left to say so."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(out, "JPEG", exif=exif)
    data, _, size = reencode_image(out.getvalue(), ImageRules())
    assert size == (30, 40)
    assert exif_of(data) == {}


def test_transparency_is_kept_as_png() -> None:
    """An image with transparency is stored as a PNG (still without metadata)."""
    data, mime, _ = reencode_image(png(mode="RGBA"), ImageRules())
    assert mime == "image/png"
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA"
        assert not image.info.get("exif")


def test_at_most_n_images_are_decoded_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight images handed over at once are decoded at most `parallel` at a time."""
    import suarawarga.bot.attachments as attachments

    store = AttachmentStore(tmp_path, ImageRules(parallel=2))
    inside, most = 0, 0
    lock = threading.Lock()
    real = attachments.reencode_image

    def slow(data: bytes, rules: ImageRules) -> tuple[bytes, str, tuple[int, int]]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)
        try:
            return real(data, rules)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(attachments, "reencode_image", slow)
    photo = jpeg_with_gps()
    threads = [threading.Thread(target=store.save_draft_image, args=(photo,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2
    assert len(list(store.files("drafts"))) == 8


def test_attachment_paths_cannot_escape_the_store(tmp_path: Path) -> None:
    """A stored path that points outside the store is refused."""
    store = AttachmentStore(tmp_path / "files")
    with pytest.raises(ValueError, match="outside"):
        store.path_of("../../etc/passwd")
