"""Signing in to the staff console: the one-time link from chat, the session cookie, the form token, signing out.

The link from `masuk` opens a page with one button; pressing it (a POST) uses the link up and starts the
session. Opening the link alone changes nothing, because chat apps fetch links to show previews and would
otherwise use it up before the officer does. The cookie holds the session's random token (HttpOnly,
SameSite=Lax, Secure unless the console runs on this machine over http, path /staf so that the public pages
never get it); forms carry a token derived from it (`signin.csrf_token`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from suarawarga.complaints import signin
from suarawarga.complaints.signin import SignedIn

if TYPE_CHECKING:
    from suarawarga.staffweb.web import Console

log = logging.getLogger(__name__)

COOKIE = "sw_staf"
COOKIE_PATH = "/staf"
SIGN_IN_PAGE = "/staf/masuk"


async def current(console: Console, request: Request) -> SignedIn | None:
    """Return who the request's session cookie belongs to (and remember it on the request), or None."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    async with console.app.uow() as uow:
        who = await signin.signed_in(uow, token, console.app.clock.now())
        await uow.commit()  # its last use, or its end when it expired
    if who is not None:
        request.state.who, request.state.session_token = who, token
    return who


def to_sign_in(console: Console, request: Request) -> Response:
    """Send a signed-out browser to the page that says how to get a link (and drop a dead cookie)."""
    response = console.redirect(request, SIGN_IN_PAGE)
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=console.secure, httponly=True, samesite="lax")
    return response


def csrf_ok(request: Request, form: FormData) -> bool:
    """Tell whether a form carries the form token of the request's session."""
    token: str = getattr(request.state, "session_token", "")
    given = form.get("csrf")
    return bool(token) and isinstance(given, str) and signin.csrf_valid(token, given)


def routes(console: Console) -> list[BaseRoute]:
    """Return the sign-in page, the link's page and its button, and signing out."""

    async def how_to(request: Request) -> Response:
        if await current(console, request) is not None:
            return console.redirect(request, "/staf/")
        signed_out = request.query_params.get("keluar") == "1"
        return console.render(request, "staff_signin.html", signed_out=signed_out)

    async def link_page(request: Request) -> Response:
        token = request.path_params["token"][:100]
        return console.render(request, "staff_link.html", token=token)

    async def open_link(request: Request) -> Response:
        token = request.path_params["token"][:100]
        async with console.app.uow() as uow:
            opened = await signin.open_link(uow, token, console.app.clock.now())
            await uow.commit()
        if opened is None:
            log.info("staff console: an expired, used or unknown sign-in link was refused")
            t = console.text(request)
            return console.notice(
                request,
                410,
                t("staffweb.link_bad.heading"),
                t("staffweb.link_bad.text"),
                **{t("staffweb.signin.heading"): SIGN_IN_PAGE},
            )
        session, staff = opened
        log.info("officer %d signed in to the staff console", staff.id)
        response = console.redirect(request, "/staf/")
        response.set_cookie(
            COOKIE,
            session,
            max_age=int(signin.MAX_LIFETIME.total_seconds()),
            path=COOKIE_PATH,
            secure=console.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    async def sign_out(request: Request, who: SignedIn, _form: FormData) -> Response:
        async with console.app.uow() as uow:
            await signin.sign_out(uow, who.session_id, console.app.clock.now())
            await uow.commit()
        response = console.redirect(request, SIGN_IN_PAGE, keluar="1")
        response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=console.secure, httponly=True, samesite="lax")
        return response

    return [
        console.public("/masuk", how_to, ["GET", "HEAD"]),
        console.public("/masuk/{token}", link_page, ["GET", "HEAD"]),
        console.public("/masuk/{token}", open_link, ["POST"]),
        console.action("/keluar", sign_out),
    ]
