"""Benchmark: peak memory of the attachment path handed a decompression bomb, one at a time and four at once.

Makes the bomb itself: a 13 000 x 13 000 black RGB PNG (169 megapixels in about 490 kB, written row by row).
Each case runs in a fresh Python process that hands the bytes to the store's image path, exactly as an adapter
(before) or an accepting step (now) does, and reports the process's peak resident memory (VmHWM from
/proc/self/status, Linux) next to its resident memory just before, how long it took, and what happened.
A 24-megapixel phone photo with EXIF GPS is the control case: it must be stored, downscaled, without EXIF.

    python benchmarks/image_bomb.py [--parallel 4]

A 39.5-megapixel PNG (just under the cap) shows the costliest image that is accepted, alone and four at once:
at most `image_decoders` (2) are decoded at a time, so four cost what two do.

Target: the bomb is refused from its header (peak under 150 MB, not the 2.6 GB of decoding it) and the photo is
stored at 2 560 px on its long side without metadata.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import subprocess
import sys
import tempfile
import zlib

CHILD = r"""
import io, json, sys, tempfile, threading, time
from datetime import datetime, timezone
from pathlib import Path

def vm(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return -1

from suarawarga.bot.attachments import AttachmentStore
from suarawarga.bot.messages import MediaKind
from PIL import Image  # imported up front so that the baseline holds the libraries, as in `serve`

case, copies = sys.argv[1], int(sys.argv[2])
data = Path(sys.argv[3]).read_bytes()
mime = "image/jpeg" if case == "photo" else "image/png"
store = AttachmentStore(Path(tempfile.mkdtemp()))
outcomes = []
def one():
    try:
        ref = store.save(data, mime, MediaKind.DOCUMENT, datetime.now(timezone.utc))
        with Image.open(store.path_of(ref.path)) as image:
            outcomes.append(f"stored {image.format} {image.size[0]}x{image.size[1]}, EXIF tags: {len(image.getexif())}")
    except Exception as exc:
        outcomes.append(f"refused ({type(exc).__name__}: {exc})")
base = vm("VmRSS")
started = time.perf_counter()
threads = [threading.Thread(target=one) for _ in range(copies)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"before_mb": base, "peak_mb": vm("VmHWM"), "seconds": round(time.perf_counter() - started, 2),
                  "outcomes": sorted(set(outcomes))}))
"""


def bomb_png(width: int = 13_000, height: int = 13_000) -> bytes:
    """Return a small PNG of a huge black RGB image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    parts = [packer.compress(row) for _ in range(height)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def phone_photo() -> bytes:
    """Return a 6 000 x 4 000 JPEG with a camera model and a GPS position in its EXIF."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    exif = Image.Exif()
    exif[0x0110] = "PhoneOfTheReporter"
    exif.get_ifd(0x8825).update({1: "S", 2: (0.0, 57.0, 1.5), 3: "E", 4: (100.0, 21.0, 2.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def large_png() -> bytes:
    """Return a 7 600 x 5 200 PNG (39.5 megapixels: just under the default cap of 40), the costliest accepted."""
    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize((7600, 5200)).convert("RGB").save(out, "PNG")
    return out.getvalue()


def main() -> None:
    """Run each case in its own process and print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=4, help="bombs handed over at once in the second case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases = []
        bomb = f"{folder}/bomb.png"
        with open(bomb, "wb") as handle:
            handle.write(bomb_png())
        photo = f"{folder}/photo.jpg"
        with open(photo, "wb") as handle:
            handle.write(phone_photo())
        big = f"{folder}/big.png"
        with open(big, "wb") as handle:
            handle.write(large_png())
        cases = [
            ("bomb", 1, bomb),
            ("bomb", args.parallel, bomb),
            ("photo", 1, photo),
            ("big-png", 1, big),
            ("big-png", args.parallel, big),
        ]
        print(
            f"bomb: 13000x13000 PNG, {len(bomb_png()) // 1000} kB; photo: 6000x4000 JPEG with EXIF GPS; "
            "big-png: 7600x5200 PNG (39.5 MP)"
        )
        for case, copies, path in cases:
            done = subprocess.run(  # noqa: S603 - this interpreter, our own script
                [sys.executable, "-c", CHILD, case, str(copies), path], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                print(f"{case} x{copies}: process failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{case} x{copies}: RSS before {result['before_mb']} MB, peak {result['peak_mb']} MB, "
                f"{result['seconds']} s: {'; '.join(result['outcomes'])}"
            )


if __name__ == "__main__":
    main()
