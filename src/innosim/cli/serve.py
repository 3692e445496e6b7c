"""``innosim serve``: the web dashboard (Solara; the optional 'dashboard' extra)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from innosim.cli.console import (
    stderr_console,
    stdout_console,
)

__all__ = ["serve_cmd"]


def serve_cmd(
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on (127.0.0.1 keeps it on this machine)."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8765,
) -> None:
    """Serve the web dashboard (Solara) until Ctrl-C: levers, runs, policy comparison, index,
    downloads (docs/dashboard.md). Needs the 'dashboard' extra."""
    # Lazy: the dashboard needs the optional 'dashboard' extra (solara); serve() names it when
    # missing, and every other command must work without it.
    from innosim.dashboard.server import serve

    err = stderr_console()
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(Text(f"warning: listening on {host}: anyone who can reach it can run the model"))
    serve(
        host,
        port,
        announce=lambda url: stdout_console().print(Text(f"Dashboard: {url} (Ctrl-C stops it)")),
        say=lambda line: err.print(Text(line)),
    )
