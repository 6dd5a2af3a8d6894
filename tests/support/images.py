"""Image files as phones and attackers send them: EXIF with GPS, HEIC, truncated JPEGs, decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

MODEL = "PhoneOfTheReporter"


def gps_exif() -> Image.Exif:
    """Return EXIF naming the camera and the exact place (Padang) a photo was taken."""
    exif = Image.Exif()
    exif[Base.Make] = "Apple"
    exif[Base.Model] = MODEL
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "S"
    gps[GPS.GPSLatitude] = (0.0, 57.0, 1.5)
    gps[GPS.GPSLongitudeRef] = "E"
    gps[GPS.GPSLongitude] = (100.0, 21.0, 2.0)
    return exif


def picture(size: tuple[int, int] = (40, 30)) -> Image.Image:
    """Return an image with some detail (a gradient), so that a truncated file misses real pixels."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.putpixel((width // 2, height // 2), (255, 0, 0))
    return image


def jpeg_with_gps(size: tuple[int, int] = (40, 30)) -> bytes:
    """Return a JPEG carrying a camera model and a GPS position in its EXIF."""
    out = io.BytesIO()
    picture(size).save(out, "JPEG", exif=gps_exif(), quality=95)
    return out.getvalue()


def heic_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """Return an HEIC photo (as iPhones send them) carrying a camera model and a GPS position."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    picture(size).save(out, "HEIF", exif=gps_exif().tobytes())
    return out.getvalue()


def truncated_jpeg_with_gps(size: tuple[int, int] = (400, 300)) -> bytes:
    """Return the first half of a JPEG with EXIF GPS: its header and metadata are intact, its pixels are not."""
    data = jpeg_with_gps(size)
    return data[: len(data) // 2]


def png(size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    """Return a plain PNG."""
    out = io.BytesIO()
    picture(size).convert(mode).save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 13_000, height: int = 13_000) -> bytes:
    """Return a small PNG of a huge black RGB image (13 000 x 13 000: 169 megapixels in about 500 kB).

    Written row by row, so making it takes little memory; decoding it would take width x height x 4 bytes.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)  # filter byte, then black pixels
    parts = [packer.compress(row) for _ in range(height)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def exif_of(data: bytes) -> dict[int, object]:
    """Return every EXIF tag of an image (with the GPS directory's tags), as a reader of the stored file sees it."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        found: dict[int, object] = dict(exif)
        found.update({0x8825_0000 + k: v for k, v in exif.get_ifd(IFD.GPSInfo).items()})
        return found


def same_picture_without_metadata(sent: bytes, original: bytes) -> bool:
    """Tell whether a forwarded file is a fresh JPEG/PNG of the original's picture (same size) with no metadata."""
    with Image.open(io.BytesIO(sent)) as image, Image.open(io.BytesIO(original)) as source:
        return (
            image.format in ("JPEG", "PNG") and image.size == source.size and exif_of(sent) == {} and sent != original
        )
