"""Property test: any sequence of any inbound messages, in any step, never breaks the dispatcher or a state."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suarawarga.bootstrap import build
from suarawarga.bot.attachments import draft_paths
from suarawarga.bot.channels.console import RecordingSender, console_key
from suarawarga.bot.messages import ChannelName, Inbound, IncomingFile, MediaKind
from suarawarga.complaints.seed import read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.config import Settings
from suarawarga.storage.db import make_engine
from suarawarga.storage.orm import Base
from tests.support.clock import JAKARTA, FrozenClock
from tests.support.images import jpeg_with_gps

TEXTS = st.one_of(
    st.sampled_from(
        [
            "1",
            "2",
            "3",
            "5",
            "12",
            "99",
            "0",
            "-1",
            "menu",
            "batal",
            "bantuan",
            "status",
            "status PDG-ABCDEF",
            "lanjut",
            "bahasa",
            "pengaduan",
            "survei",
            "Selesai",
            "Kirim",
            "Rahasia",
            "Anonim",
            "Lewati",
            "ya",
            "Jalan di depan rumah berlubang besar sekali",
            "dataku",
            "hapusdata",
            "jawab PDG-234567",
            "gabung XYZ",
            "antrian",
            "nilai PDG-234567 4",
            "",
            "   ",
        ]
    ),
    st.text(max_size=60),
    st.text(min_size=4001, max_size=4010, alphabet="ab "),
)
COMMANDS = st.sampled_from(
    [
        "start",
        "menu",
        "batal",
        "bantuan",
        "status",
        "pengaduan",
        "survei",
        "bahasa",
        "lanjut",
        "dataku",
        "hapusdata",
        "antrian",
        "nosuchcommand",
        "start ikm_PKM-ANDALAS",
        "start ikm_NOPE",
    ]
)
CHOICES = st.sampled_from(
    [
        "cat:jalan_rusak",
        "cat:nope",
        "consent:yes",
        "consent:no",
        "loc:skip",
        "kec:unknown",
        "kec:KEC-PAUH",
        "photos:done",
        "id:anonim",
        "id:rahasia",
        "id:named",
        "contact:skip",
        "confirm:send",
        "confirm:cancel",
        "cmd:pengaduan",
        "cmd:status",
        "cmd:st acc PDG-234567",
        "cmd:nilai PDG-234567 ya",
        "cmd:jawab PDG-234567",
        "erase:yes",
        "erase:no",
        "xfer:ADMIN",
        "totally-unknown",
    ]
)
PHOTO = IncomingFile(MediaKind.PHOTO, "image/jpeg", "fuzz-photo", size=1000)
JPEG = jpeg_with_gps()


async def _fetch(item: IncomingFile, limit: int) -> bytes:
    """Serve every fuzzed photo as a real JPEG."""
    return JPEG


OPS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.one_of(
            st.tuples(st.just("text"), TEXTS),
            st.tuples(st.just("command"), COMMANDS),
            st.tuples(st.just("choice"), CHOICES),
            st.tuples(st.just("location"), st.tuples(st.floats(-100, 100), st.floats(-200, 200))),
            st.tuples(st.just("photo"), st.none()),
            st.tuples(st.just("sticker"), st.none()),
        ),
    ),
    min_size=1,
    max_size=40,
)

_template: Path | None = None


def _template_db() -> Path:
    """Create (once) a seeded database file that each example copies."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="suarawarga-fuzz-"))
        path = folder / "template.db"

        async def make() -> None:
            engine = make_engine(f"sqlite+aiosqlite:///{path}")
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            settings_ = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{path}")  # type: ignore[call-arg]
            app = build(settings_, db=engine)
            async with app.uow() as uow:
                await load_seed(uow, read_seed())
                await uow.commit()
            await engine.dispose()

        asyncio.run(make())
        _template = path
    return _template


def _inbound(chat: int, op: tuple[str, object], clock: FrozenClock) -> Inbound:
    kind, value = op
    base = Inbound(
        key=console_key(f"fuzz-{chat}"), external_id=uuid.uuid4().hex, received_at=clock.now(), sender_id=f"fuzz-{chat}"
    )
    if kind == "text":
        return replace(base, text=str(value))
    if kind == "command":
        name, _, args = str(value).partition(" ")
        return replace(base, command=name, text=args or None)
    if kind == "choice":
        return replace(base, choice=str(value))
    if kind == "location":
        assert isinstance(value, tuple)
        return replace(base, location=(float(value[0]), float(value[1])))
    if kind == "photo":
        return replace(base, media=(PHOTO,))
    return replace(base, unsupported="sticker")


async def _scenario(ops: list[tuple[int, tuple[str, object]]], folder: Path, template: Path) -> None:
    db = folder / "fuzz.db"
    shutil.copy(template, db)
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA))
    settings_ = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{db}", attachments_dir=folder / "files"
    )
    app = build(settings_, clock=clock)
    app.register_sender(ChannelName.CONSOLE, RecordingSender(app.catalogue))
    app.media.fetchers[ChannelName.CONSOLE] = _fetch
    try:
        async with app.dispatcher() as dispatcher:
            for chat, op in ops:
                replies = await dispatcher.handle(_inbound(chat, op, clock))
                assert "error.generic" not in [r.text_key for r in replies], (chat, op)
                for reply in replies:  # every reply renders: no missing text or parameter
                    app.catalogue.render(reply.text_key, reply.language, reply.params)
        async with app.uow() as uow:
            states = await uow.conversations.load_many([console_key(f"fuzz-{n}") for n in range(3)])
            filed = await uow.complaints.attachment_paths()
        # The drafts area holds exactly the files the drafts still hold: cancelled or filed drafts left nothing.
        held = set[str]().union(*(draft_paths(s.data) for s in states.values()))
        assert {path for path, _, _ in app.attachments.files("drafts")} == held
        assert {path for path, _, _ in app.attachments.files() if not path.startswith("drafts/")} == filed
        for state in states.values():
            if state.flow is None:
                assert state.step is None
            else:
                flow = app.conversations.flows[state.flow]
                assert state.step in flow.steps, (state.flow, state.step)
    finally:
        await app.aclose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(ops=OPS)
def test_random_inbound_sequences_never_break_the_engine(ops: list[tuple[int, tuple[str, object]]]) -> None:
    """No exception escapes, no step fails with the generic apology, and every stored state is a real step."""
    template = _template_db()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_scenario(ops, Path(folder), template))
