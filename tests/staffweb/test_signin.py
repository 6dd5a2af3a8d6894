"""Signing in to the staff console from chat: the link, the session, its expiry, the form token, signing out."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import console_key, parse_line
from suarawarga.bot.messages import Inbound
from suarawarga.complaints import signin, staffing
from suarawarga.complaints.model import StaffRole
from tests.jobs.support import officer
from tests.staffweb.support import ask_link, console_client, open_link, say, sign_in
from tests.support.clock import FrozenClock


async def test_masuk_answers_a_staff_member_with_a_one_time_link(app: App) -> None:
    """`masuk` and `/masuk` give a link under /staf/masuk/; only its hash is stored; citizens are told no."""
    await officer(app, "DPUPR", "petugas-1")
    answers = await say(app, "petugas-1", "/masuk")
    assert [a.text_key for a in answers] == ["staffweb.link"]
    link = answers[0].params["link"]
    assert link.startswith("http://127.0.0.1:8080/staf/masuk/")
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 40
    async with app.uow() as uow:
        assert await uow.staff_sessions.use_link(token, app.clock.now()) is None  # the raw token is not stored
    assert [a.text_key for a in await say(app, "warga-9", "masuk")] == ["staffweb.not_staff"]


async def test_a_link_signs_in_once_and_only_within_ten_minutes(app: App, clock: FrozenClock) -> None:
    """The link works once; a second use, or a use after 10 minutes, is refused with a page saying what to do."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        path = await ask_link(app, "petugas-1")
        first = await open_link(http, path)
        assert first.status_code == 303
        assert "httponly" in first.headers["set-cookie"].lower()
        assert "samesite=lax" in first.headers["set-cookie"].lower()
        assert "path=/staf" in first.headers["set-cookie"].lower()
        assert "secure" not in first.headers["set-cookie"].lower()  # http://127.0.0.1 only
        http.cookies.clear()
        again = await open_link(http, path)
        assert again.status_code == 410 and "masuk" in again.text
        assert "sw_staf" not in http.cookies
        late = await ask_link(app, "petugas-1")
        clock.advance(signin.LINK_LIFETIME + timedelta(seconds=1))
        assert (await open_link(http, late)).status_code == 410
        assert (await http.get("/staf/")).status_code == 303


async def test_opening_the_link_without_pressing_the_button_changes_nothing(app: App) -> None:
    """A chat app's link preview (a GET) does not use the link up."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        path = await ask_link(app, "petugas-1")
        for _ in range(3):
            assert (await http.get(path)).status_code == 200
        assert (await http.post(path)).status_code == 303


async def test_signed_out_requests_go_to_the_page_that_says_how_to_get_a_link(app: App) -> None:
    """Without a session every console page redirects to /staf/masuk, which explains `masuk`; POSTs change nothing."""
    async with console_client(app) as http:
        for path in ("/staf/", "/staf/aduan/PDG-222222", "/staf"):
            response = await http.get(path, follow_redirects=True)
            assert response.url.path == "/staf/masuk"
            assert "<kbd>masuk</kbd>" in response.text and "10 menit" in response.text
        posted = await http.post("/staf/keluar", data={"csrf": "x"})
        assert posted.status_code == 303 and posted.headers["location"] == "/staf/masuk"
        english = await http.get("/staf/masuk?lang=en")
        assert "Sign in to the staff console" in english.text


async def test_a_session_ends_after_eight_idle_hours(app: App, clock: FrozenClock) -> None:
    """Use keeps a session alive; eight hours without use end it."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-1")
        for _ in range(3):
            clock.advance(timedelta(hours=7))
            assert (await http.get("/staf/")).status_code == 200
        clock.advance(signin.IDLE_LIFETIME)
        assert (await http.get("/staf/")).status_code == 303
        clock.advance(-signin.IDLE_LIFETIME)  # an ended session stays ended
        assert (await http.get("/staf/")).status_code == 303


async def test_a_session_ends_after_seven_days_however_much_it_is_used(app: App, clock: FrozenClock) -> None:
    """Seven days after signing in the session ends, even if it was used every few hours."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-1")
        used = timedelta(0)
        while used + timedelta(hours=6) < signin.MAX_LIFETIME:
            clock.advance(timedelta(hours=6))
            used += timedelta(hours=6)
            assert (await http.get("/staf/")).status_code == 200
        clock.advance(signin.MAX_LIFETIME - used)
        assert (await http.get("/staf/")).status_code == 303


async def test_keluar_in_the_web_ends_the_session(app: App) -> None:
    """Pressing Keluar (with the form token) ends the session and drops the cookie."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        csrf = await sign_in(app, http, "petugas-1")
        cookie = http.cookies["sw_staf"]
        out = await http.post("/staf/keluar", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/staf/masuk?keluar=1"
        http.cookies.set("sw_staf", cookie, domain="suarawarga.test", path="/staf")  # a copied cookie is dead too
        assert (await http.get("/staf/")).status_code == 303


async def test_keluar_in_chat_ends_every_session(app: App) -> None:
    """`keluar` in chat signs the officer out of every browser."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as phone, console_client(app) as desk:
        await sign_in(app, phone, "petugas-1")
        await sign_in(app, desk, "petugas-1")
        answers = await say(app, "petugas-1", "keluar")
        assert [a.text_key for a in answers] == ["staffweb.signed_out"] and answers[0].params["count"] == "2"
        assert (await phone.get("/staf/")).status_code == 303
        assert (await desk.get("/staf/")).status_code == 303
        assert [a.text_key for a in await say(app, "petugas-1", "keluar")] == ["staffweb.signed_out_none"]


async def test_removing_a_member_of_staff_ends_their_sessions_and_links(app: App) -> None:
    """The removal service (CLI or chat) signs the officer out at once, and voids a link not yet used."""
    staff = await officer(app, "DPUPR", "petugas-1")
    await officer(app, "DPUPR", "kepala-1", StaffRole.HEAD)
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-1")
        unused = await ask_link(app, "petugas-1")
        async with app.uow() as uow:
            await staffing.remove_member(uow, staff.id, app.clock.now())
            await uow.commit()
        assert (await http.get("/staf/")).status_code == 303
        assert (await open_link(http, unused)).status_code == 410
    assert [a.text_key for a in await say(app, "petugas-1", "masuk")] == ["staffweb.not_staff"]


async def test_a_form_without_its_token_is_refused_and_changes_nothing(app: App) -> None:
    """A POST with a missing or wrong form token gets the 403 page; the session goes on."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        csrf = await sign_in(app, http, "petugas-1")
        for data in ({}, {"csrf": "0" * 64}, {"csrf": csrf[:-1]}):
            refused = await http.post("/staf/keluar", data=data)
            assert refused.status_code == 403
            assert "Tidak diizinkan" in refused.text
        assert (await http.get("/staf/")).status_code == 200  # still signed in: nothing changed


async def test_no_link_is_ever_posted_in_a_group(app: App) -> None:
    """`masuk` in a group gives no link (anyone in the group could open it first); the group is not answered."""
    await officer(app, "DPUPR", "petugas-1")
    inbound = parse_line("/masuk", console_key("grup-dpupr"), app.clock)
    assert isinstance(inbound, Inbound)
    async with app.dispatcher() as dispatcher:
        answers = await dispatcher.handle(dataclasses.replace(inbound, group=True, sender_id="petugas-1"))
    assert all(a.text_key != "staffweb.link" for a in answers)
    async with app.uow() as uow:
        assert await uow.staff_sessions.end_for_staff([1, 2, 3], app.clock.now()) == 0


def test_cookies_are_secure_except_on_this_machine_over_http() -> None:
    """Secure is left off only for http://127.0.0.1 and http://localhost (a local try-out)."""
    from suarawarga.staffweb.web import secure_cookies

    assert not secure_cookies(None)
    assert not secure_cookies("http://127.0.0.1:8080")
    assert not secure_cookies("http://localhost:8080/")
    assert secure_cookies("https://lapor.padang.go.id")
    assert secure_cookies("http://lapor.padang.go.id")
    assert secure_cookies("https://127.0.0.1")


def test_a_sign_in_link_never_reaches_the_log() -> None:
    """The access log line of a link (opened, or its button pressed) shows no token."""
    from suarawarga.logging import redact

    line = '127.0.0.1:42438 - "POST /staf/masuk/EOQ3xteCAIDTs8xGoRk-vTfvlamtLA8J5it-ZyWaRFQ HTTP/1.1" 303'
    assert redact(line) == '127.0.0.1:42438 - "POST /staf/masuk/<token> HTTP/1.1" 303'


async def test_console_pages_carry_the_site_headers_and_are_never_cached(app: App) -> None:
    """Every console page has the strict CSP and no-store; its stylesheet is served like the site's."""
    await officer(app, "DPUPR", "petugas-1")
    async with console_client(app) as http:
        await sign_in(app, http, "petugas-1")
        for path in ("/staf/masuk", "/staf/", "/staf/tidak-ada"):
            response = await http.get(path)
            assert response.headers["cache-control"] == "no-store", path
            assert "script-src" not in response.headers["content-security-policy"]
            assert "default-src 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"
        css = await http.get("/staf/static/staff.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert css.headers["cache-control"] == "public, max-age=86400"
        public = await http.get("/")
        assert "set-cookie" not in public.headers  # the public site still sets no cookie


async def test_a_citizen_typing_keluar_is_told_how_to_cancel_and_keeps_their_draft(app: App) -> None:
    """`keluar` from a citizen mid-complaint: a hint (batal, menu), and the complaint flow goes on."""
    await say(app, "warga-1", "pengaduan")
    answers = await say(app, "warga-1", "keluar")
    assert answers[0].text_key == "staffweb.sign_out.citizen"
    async with app.uow() as uow:
        state = (await uow.conversations.load_many([console_key("warga-1")]))[console_key("warga-1")]
    assert state.flow == "complaint"
