"""Start the dashboard: Solara's Starlette app served by uvicorn, in this process.

``innosim serve`` calls :func:`serve`. It binds ``127.0.0.1`` unless told otherwise, runs in
Solara's production mode (no file watching, no auto-restart), keeps telemetry and version checks
off (nothing leaves the machine) and culls the state of a closed browser page after
:data:`KERNEL_CULL_TIMEOUT`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import warnings
from collections.abc import Callable
from typing import Final

from innosim.errors import InputError

__all__ = ["APP", "KERNEL_CULL_TIMEOUT", "check_available", "check_port", "serve"]

APP: Final = "innosim.dashboard.app"
"""The module holding the Solara ``Page``."""

KERNEL_CULL_TIMEOUT: Final = "10m"
"""How long a disconnected page's session state is kept (Solara's default is a day)."""

EXTRA_HINT: Final = "pip install 'innosim[dashboard]'"

_find_spec = importlib.util.find_spec  # tests replace it to simulate a missing extra


def check_available() -> None:
    """Raise an :class:`InputError` naming the extra to install when Solara or uvicorn is
    missing."""
    missing = [m for m in ("solara", "uvicorn") if _find_spec(m) is None]
    if missing:
        raise InputError(
            "the dashboard needs the optional 'dashboard' extra",
            field="serve",
            value=f"{', '.join(missing)} not installed",
            expected=f"Solara installed: {EXTRA_HINT}",
        )


def check_port(host: str, port: int) -> None:
    """Raise an :class:`InputError` when ``host:port`` cannot be bound (in use, bad address)."""
    if not (isinstance(port, int) and 1 <= port <= 65535):
        raise InputError(
            "bad port",
            file="command line",
            field="--port",
            value=port,
            expected="a whole number in [1, 65535]",
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InputError(
            "cannot resolve the host",
            file="command line",
            field="--host",
            value=host,
            expected=f"a local address such as 127.0.0.1 ({exc})",
        ) from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            raise InputError(
                "cannot listen there",
                file="command line",
                field="--port",
                value=f"{host}:{port}",
                expected=f"a free port on a local address ({exc.strerror})",
            ) from None


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    announce: Callable[[str], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Serve the dashboard at ``http://host:port/`` until interrupted.

    Parameters
    ----------
    host : str
        Address to bind; the default keeps the dashboard on this machine.
    port : int
    announce : callable, optional
        Called with the URL once the address is known to be free.
    say : callable, optional
        Called with progress lines (fetching the front-end files the first time).

    Raises
    ------
    InputError
        Solara missing (naming the extra to install), the address cannot be bound, or the
        page's front-end files are missing and npm cannot fetch them.
    """
    check_available()
    check_port(host, port)
    # Solara reads its settings from the environment when first imported: set them first
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", KERNEL_CULL_TIMEOUT)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    import solara.server.settings as settings
    import uvicorn

    from innosim.dashboard import assets

    assets.install(say=say)

    # a CJK font without a "normal" weight makes Matplotlib log a line per label drawn
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Cookies with samesite=none")

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    if announce:
        announce(f"http://{host}:{port}/")
    uvicorn.run(
        "solara.server.starlette:app", host=host, port=port, log_level="warning", access_log=False
    )
