"""A free TCP port on this machine, for servers the tests start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
