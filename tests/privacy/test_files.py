"""Files from chats: fetched only when a step accepts them, refused with a reason, never left behind by a draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.attachments import AttachmentStore, ImageRules, MediaIntake, MediaRefused
from suarawarga.bot.channels.console import read_local_file
from suarawarga.bot.messages import ChannelName, IncomingFile, MediaKind
from tests.support.dialog import Conversation
from tests.support.images import bomb_png, exif_of, heic_with_gps, jpeg_with_gps, truncated_jpeg_with_gps

TO_PHOTOS = [
    ("/start", ["menu.welcome"]),
    ("1", ["privacy.notice"]),
    ("1", ["privacy.thanks", "complaint.category.ask"]),
    ("1", ["complaint.description.ask"]),
    ("Jalan di depan SD 12 berlubang besar", ["complaint.location.ask"]),
    ("Lewati", ["complaint.kecamatan.ask"]),
    ("Tidak tahu", ["complaint.photos.ask"]),
]


class Fetches:
    """The console's file reader, counting what it is asked to read."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, item: IncomingFile, limit: int) -> bytes:
        self.count += 1
        return await read_local_file(item, limit)


@pytest.fixture
def fetches(app: App) -> Fetches:
    """Count the files the console channel is asked to fetch."""
    counter = Fetches()
    app.media.fetchers[ChannelName.CONSOLE] = counter
    return counter


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """Return a JPEG with GPS on disk, as a phone would send it."""
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(jpeg_with_gps((120, 90)))
    return path


async def test_files_no_step_takes_are_never_fetched(
    app: App, citizen: Conversation, fetches: Fetches, photo: Path
) -> None:
    """Before consent, outside any flow, and at a step that asks for text, a file is not even downloaded."""
    assert await citizen.say(f"/foto {photo}") == ["menu.intro"]  # outside any flow, no consent
    await citizen.verify([("/start", ["menu.welcome"]), ("1", ["privacy.notice"])])
    assert (await citizen.say(f"/foto {photo}"))[0] != "complaint.photos.received"  # at the consent question
    await citizen.verify([("1", ["privacy.thanks", "complaint.category.ask"]), ("1", ["complaint.description.ask"])])
    assert (await citizen.say(f"/foto {photo}"))[0] != "complaint.photos.received"  # asked for text
    assert fetches.count == 0
    assert list(app.attachments.files()) == []


async def test_photos_beyond_the_limit_are_not_fetched(
    app: App, citizen: Conversation, fetches: Fetches, photo: Path
) -> None:
    """Five photos are taken; a sixth, sent after the limit moved the flow on, is never downloaded."""
    await citizen.verify(TO_PHOTOS)
    for _ in range(4):
        assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    assert await citizen.say(f"/foto {photo}") == ["complaint.photos.full", "complaint.identity.ask"]
    await citizen.say(f"/foto {photo}")
    assert fetches.count == 5
    assert len(list(app.attachments.files("drafts"))) == 5


async def test_a_cancelled_draft_leaves_no_file_on_disk(app: App, citizen: Conversation, photo: Path) -> None:
    """'Dibatalkan. Tidak ada yang disimpan.' is true of files too: the draft's photos are deleted."""
    await citizen.verify(TO_PHOTOS)
    for _ in range(3):
        assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    assert len(list(app.attachments.files())) == 3
    assert await citizen.say("batal") == ["cancel.done"]
    assert list(app.attachments.files()) == []


async def test_a_draft_left_for_another_flow_keeps_its_file_until_discarded(
    app: App, citizen: Conversation, photo: Path
) -> None:
    """A draft left with /start is kept for `lanjut` with its photo; discarding it (batal) removes the file."""
    await citizen.verify(TO_PHOTOS)
    assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    await citizen.say("/start")
    assert len(list(app.attachments.files())) == 1
    assert await citizen.say("batal") == ["draft.discarded"]
    assert list(app.attachments.files()) == []


async def test_what_cannot_be_taken_is_refused_with_a_reason_and_not_stored(
    app: App, citizen: Conversation, tmp_path: Path
) -> None:
    """A text file, a truncated JPEG and a 169-megapixel PNG are refused (and re-asked); a HEIC is re-encoded."""
    files = {
        "catatan.jpg": b"hello, world\n",  # 13 bytes sent as a "photo"
        "potong.jpg": truncated_jpeg_with_gps(),
        "bom.png": bomb_png(),
        "iphone.heic": heic_with_gps(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    await citizen.verify(
        [
            *TO_PHOTOS,
            (f"/foto {tmp_path / 'catatan.jpg'}", ["media.unreadable", "complaint.photos.ask"]),
            (f"/foto {tmp_path / 'potong.jpg'}", ["media.unreadable", "complaint.photos.ask"]),
            (f"/foto {tmp_path / 'bom.png'}", ["media.too_many_pixels", "complaint.photos.ask"]),
        ]
    )
    assert citizen.last_texts[0] == (
        "Foto terlalu besar (lebih dari 40 megapiksel). Silakan kirim foto yang lebih kecil."
    )
    assert list(app.attachments.files()) == []
    assert await citizen.say(f"/foto {tmp_path / 'iphone.heic'}") == ["complaint.photos.received"]
    assert "Foto ke-1 sudah kami terima" in citizen.last_texts[0]  # only the readable photo counts
    ((path, _, _),) = app.attachments.files()
    assert path.endswith(".jpg")
    assert exif_of(app.attachments.path_of(path).read_bytes()) == {}


async def test_the_unreadable_photo_text_is_the_one_asked_for(app: App) -> None:
    """The refusal reads as the finding asks, in both languages."""
    assert app.catalogue.render("media.unreadable", "id", {}) == "Foto tidak bisa dibaca, silakan kirim ulang."
    assert app.catalogue.render("media.unreadable", "en", {}) == "The photo could not be read, please send it again."


async def test_per_chat_and_total_quotas(tmp_path: Path) -> None:
    """A chat whose drafts hold its quota, or a store over its total, gets a refusal and nothing is written."""
    source = tmp_path / "foto.jpg"
    source.write_bytes(jpeg_with_gps())
    item = IncomingFile(MediaKind.PHOTO, "image/jpeg", str(source), size=source.stat().st_size)
    store = AttachmentStore(tmp_path / "files", ImageRules(chat_quota=50_000, total_quota=60_000, min_free=0))
    intake = MediaIntake(store)
    intake.fetchers[ChannelName.CONSOLE] = read_local_file
    first = await intake.accept_image(ChannelName.CONSOLE, item, chat_holds=0)
    with pytest.raises(MediaRefused) as chat_full:
        await intake.accept_image(ChannelName.CONSOLE, item, chat_holds=50_000 - first.size // 2)
    assert chat_full.value.text_key == "media.quota_chat"
    (store.root / "2026").mkdir()
    (store.root / "2026" / "big.jpg").write_bytes(b"x" * 59_000)
    restarted = MediaIntake(AttachmentStore(store.root, store.rules))  # measures the store afresh
    restarted.fetchers[ChannelName.CONSOLE] = read_local_file
    with pytest.raises(MediaRefused) as store_full:
        await restarted.accept_image(ChannelName.CONSOLE, item, chat_holds=0)
    assert store_full.value.text_key == "media.quota_total"
    assert [p for p, _, _ in store.files("drafts")] == [first.path]
    too_big = IncomingFile(MediaKind.PHOTO, "image/jpeg", str(source), size=21 * 1024 * 1024)
    with pytest.raises(MediaRefused) as heavy:
        await intake.accept_image(ChannelName.CONSOLE, too_big, chat_holds=0)
    assert (heavy.value.text_key, heavy.value.params) == ("media.too_large", {"max": "20"})
