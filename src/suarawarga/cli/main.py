"""The `suarawarga` command line: the parser built from the command groups, and the one way a command runs.

Each group module (`data`, `run`, `jobs`, `staff`, `surveys`, `messages`) has `register(subparsers)` adding its
commands, each with a handler `async def cmd_x(app, args) -> int`; every command prints and fails through
`cli.output`. The database layer, the bot and pydantic are imported by the commands that use them, not here:
`--help` and a mistyped option answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from suarawarga import __version__
from suarawarga.cli import data, jobs, messages, run, staff, surveys
from suarawarga.cli.output import (
    USER_ERROR,
    CliError,
    CliParser,
    clean,
    command_name,
    commands,
    note,
    report_unexpected,
)

if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.config import Settings

    Handler = Callable[[App, argparse.Namespace], Awaitable[int]]

GROUPS = (data, run, jobs, staff, surveys, messages)  # the order of the commands in `suarawarga --help`


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command of every group."""
    parser = CliParser(prog="suarawarga", description="SuaraWarga: complaints and IKM surveys over chat.")
    parser.add_argument("--version", action="version", version=f"suarawarga {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    for words, command in commands(parser):  # every error and remark names the command it is about
        command.set_defaults(command_name=" ".join(["suarawarga", *words]))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line: a user error is one line and exit code 2, never a traceback."""
    args = build_parser().parse_args(argv)
    command = command_name(args)
    settings: Settings | None = None
    try:
        settings = _settings()
        return _run(settings, args)
    except CliError as exc:
        note(f"{command}: {exc}")
        return USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`suarawarga unit list | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last resort: one line, and the trace in a file
        from suarawarga.logging import redact

        problem = _user_problem(exc, settings)
        if problem is not None:
            note(f"{command}: {redact(clean(problem))}")
            return USER_ERROR
        return report_unexpected(command, exc, redact)


def _settings() -> Settings:
    """Read the settings; an invalid one is a user error naming the variable, its value and what is expected."""
    from pydantic import ValidationError

    from suarawarga.config import describe_invalid, load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        raise CliError(describe_invalid(exc)) from None


def _run(settings: Settings, args: argparse.Namespace) -> int:
    """Build the app and run the command's handler in an event loop."""
    from suarawarga.bootstrap import build
    from suarawarga.logging import configure_logging

    configure_logging("WARNING" if args.command == "console" else settings.log_level, settings.log_format)
    handler: Handler = args.handler

    async def run() -> int:
        app = build(settings)
        failed = True
        try:
            code = await handler(app, args)
            failed = False
            return code
        finally:
            await app.aclose()
            if failed:
                from suarawarga.storage.db import settle_failed_connections

                await settle_failed_connections()

    with asyncio.Runner(loop_factory=_loop_factory(args.command)) as runner:
        return runner.run(run())


def _user_problem(exc: Exception, settings: Settings | None) -> str | None:
    """Return the one-line text of an error the admin can fix (bad seed, period, database URL), else None."""
    from suarawarga.errors import ConfigError
    from suarawarga.surveys.periods import PeriodError

    if isinstance(exc, ConfigError | PeriodError):
        return " ".join(str(exc).split())
    if settings is None:
        return None
    from suarawarga.storage.db import database_problem

    return database_problem(exc, settings.database_url)


SERVER_COMMANDS = frozenset({"serve", "process", "poll", "worker"})


def _loop_factory(command: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's event loop for the long-running servers where it is installed (less CPU per request)."""
    if command not in SERVER_COMMANDS:
        return None
    try:
        import uvloop
    except ImportError:  # not on this platform (Windows): the standard loop does the same, a little slower
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


if __name__ == "__main__":
    sys.exit(main())
