"""The staff console's frame: the route table mounted at /staf, page rendering, guarded pages and actions.

Every page but the sign-in ones needs a session (`auth.py`); without one the browser is sent to the page that
says how to get a link. Every POST also needs the session's form token (CSRF): missing or wrong, the request
is refused with a 403 page before anything is read or changed. Pages reuse the public site's Jinja environment
(console templates first), its security headers and its static-file handling; no page may be cached.

To add pages: write `routes(console) -> list[BaseRoute]` in a module of this package, using `console.page` and
`console.action`, and add the module's `routes` to `ROUTE_TABLE` below (paths are relative to /staf).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from suarawarga.bot.messages import Outbound
from suarawarga.bot.sender import HOLD
from suarawarga.complaints.signin import SignedIn, csrf_token
from suarawarga.site.web import SECURITY_HEADERS, CachedStatic, Site, language_of
from suarawarga.staffweb import auth

if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PREFIX = "/staf"
HOME = PREFIX + "/"
Submit = Callable[[list[Outbound]], Awaitable[None]]  # hands committed messages to this process's sender
Page = Callable[[Request, SignedIn], Awaitable[Response]]
Action = Callable[[Request, SignedIn, FormData], Awaitable[Response]]
NO_STORE = {**SECURITY_HEADERS, "cache-control": "no-store"}  # staff pages hold personal data: never cached
MAX_FORM_FIELDS = 30
MAX_FIELD_BYTES = 64 * 1024  # a text field: far more than the 2000 characters an answer may have
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def secure_cookies(public_url: str | None) -> bool:
    """Tell whether the session cookie must be Secure: always, unless the console runs on this machine over http."""
    parts = urlsplit(public_url or "http://127.0.0.1")
    return not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)


class Console:
    """The console's pages, bound to the application (and to the process's sender, when it has one)."""

    def __init__(self, app: App, submit: Submit | None = None) -> None:
        self.app = app
        self.site = Site(app, templates=("suarawarga.staffweb",))
        self.secure = secure_cookies(app.settings.public_url)
        self.submit = submit
        self._locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------------------------------ rendering

    def text(self, request: Request) -> Callable[..., str]:
        """Return the catalogue lookup in the request's language."""
        return self.site.text(language_of(request))

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a console template with the site's context, who is signed in, and the form token."""
        lang = language_of(request)
        who: SignedIn | None = getattr(request.state, "who", None)
        token: str = getattr(request.state, "session_token", "")
        csrf = csrf_token(token) if token else ""
        context = self.site.context(request, lang)
        context.update(
            who=who,
            csrf=csrf,
            csrf_field=Markup('<input type="hidden" name="csrf" value="{}">').format(csrf),
            home=context["url"](HOME),
        )
        html = self.site.templates.get_template(name).render(**context, **values)
        return HTMLResponse(html, status_code=status, headers=NO_STORE)

    def notice(self, request: Request, status: int, heading: str, text: str = "", **links: str) -> HTMLResponse:
        """Render a short page: a heading, a sentence and links (label -> address)."""
        return self.render(request, "staff_notice.html", status, heading=heading, text=text, links=links)

    def refused(self, request: Request, status: int) -> HTMLResponse:
        """Render the page of a refused request (403 not allowed or bad form token, 404 unknown, 500 error)."""
        t = self.text(request)
        return self.notice(request, status, t(f"staffweb.error.{status}.heading"), t(f"staffweb.error.{status}.text"))

    def redirect(self, request: Request, path: str, **params: str) -> RedirectResponse:
        """Redirect after a POST (303) to a console address, keeping the language."""
        url = self.site.context(request, language_of(request))["url"](path, **params)
        return RedirectResponse(url, status_code=303, headers=NO_STORE)

    # ------------------------------------------------------------------------------------------ sending

    async def commit(self, uow: UnitOfWork, messages: Sequence[Outbound]) -> None:
        """Write messages to the outbox and commit with the change they announce; then hand them to the sender."""
        # Held for this process's pump when it has one, as a chat turn's replies are; else the retry loop sends.
        hold = HOLD if self.submit is not None else timedelta(0)
        stored = await uow.outbox.add_many(list(messages), self.app.clock.now(), hold)
        await uow.commit()
        if self.submit is not None and stored:
            await self.submit(stored)

    def lock(self, key: str) -> asyncio.Lock:
        """Return this process's lock for one complaint: its actions run one at a time here (the database
        decides between processes)."""
        if len(self._locks) > 10_000:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(key, asyncio.Lock())

    # ------------------------------------------------------------------------------------------ routes

    def _guarded(self, endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            try:
                return await endpoint(request)
            except Exception:  # an officer gets a page in their language, the log gets the trace
                log.exception("staff console: %s %s failed", request.method, request.url.path)
                return self.refused(request, 500)

        return guarded

    def public(self, path: str, endpoint: Callable[[Request], Awaitable[Response]], methods: Sequence[str]) -> Route:
        """Return a route that needs no session (the sign-in pages)."""
        return Route(path, self._guarded(endpoint), methods=list(methods))

    def page(self, path: str, endpoint: Page) -> Route:
        """Return a GET page for signed-in staff: `endpoint(request, who)`; signed out, the browser is redirected."""

        async def run(request: Request) -> Response:
            who = await auth.current(self, request)
            if who is None:
                return auth.to_sign_in(self, request)
            return await endpoint(request, who)

        return Route(path, self._guarded(run), methods=["GET", "HEAD"])

    def action(self, path: str, endpoint: Action, *, max_files: int = 0, max_bytes: int = 1024 * 1024) -> Route:
        """Return a POST action for signed-in staff with a valid form token: `endpoint(request, who, form)`.

        Signed out: redirected, nothing done. A missing or wrong form token: 403, nothing done.
        """

        async def run(request: Request) -> Response:
            who = await auth.current(self, request)
            if who is None:
                return auth.to_sign_in(self, request)
            declared = request.headers.get("content-length", "")
            if not declared.isdigit():
                return self.notice(request, 411, self.text(request)("staffweb.error.411.heading"))
            if int(declared) > max_bytes:
                return self.notice(request, 413, self.text(request)("staffweb.error.413.heading"))
            async with request.form(
                max_files=max_files, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
            ) as form:
                if not auth.csrf_ok(request, form):
                    log.warning("staff console: a form without its session's token was refused")
                    return self.refused(request, 403)
                return await endpoint(request, who, form)

        return Route(path, self._guarded(run), methods=["POST"])


def _home_fallback(console: Console) -> list[BaseRoute]:
    """The landing page until the queue takes /staf/: open a complaint by its code."""

    async def home(request: Request, who: SignedIn) -> Response:
        return console.render(request, "staff_home.html")

    return [console.page("/", home)]


def route_table(console: Console) -> list[BaseRoute]:
    """Return every console route, relative to /staf (earlier entries win)."""
    from suarawarga.staffweb import complaint, members, queue, reports

    ROUTE_TABLE: list[Callable[[Console], list[BaseRoute]]] = [
        auth.routes,
        queue.routes,
        reports.routes,
        members.routes,
        complaint.routes,
        _home_fallback,  # last: a module that serves "/" itself comes before it
    ]
    return [route for routes in ROUTE_TABLE for route in routes(console)]


def staff_routes(app: App, submit: Submit | None = None) -> list[BaseRoute]:
    """Return the console mounted at /staf, with its stylesheet; `submit` sends committed messages at once."""
    console = Console(app, submit)

    async def not_found(request: Request) -> Response:
        return console.refused(request, 404)

    routes = [
        *route_table(console),
        Mount("/static", app=CachedStatic("suarawarga.staffweb"), name="staff-static"),
        Route("/{path:path}", console._guarded(not_found), methods=["GET", "HEAD", "POST"]),
    ]

    async def bare(request: Request) -> Response:
        return RedirectResponse(HOME, status_code=308)

    return [Route(PREFIX, bare, methods=["GET", "HEAD"]), Mount(PREFIX, routes=routes)]
