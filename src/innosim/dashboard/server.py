"""Start the dashboard: Solara's Starlette app served by uvicorn, in this process.

``innosim serve`` calls :func:`serve`. It binds ``127.0.0.1`` unless told otherwise, runs in
Solara's production mode (no file watching, no auto-restart), keeps telemetry and version checks
off (nothing leaves the machine) and culls the state of a closed browser page after
:data:`KERNEL_CULL_TIMEOUT`.

Every request passes :class:`RequestGuard` first: oversized URLs, headers and bodies are
refused, the front-end file route only serves files already in the asset cache (Solara's own
route would fetch anything else from a CDN, and delete a cached *directory* it was asked for),
and a browser page of another site cannot open the page's websocket.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import os
import socket
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from innosim.dashboard import assets
from innosim.errors import InputError

__all__ = [
    "APP",
    "CDN_PREFIX",
    "KERNEL_CULL_TIMEOUT",
    "MAX_BODY_BYTES",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_URL_BYTES",
    "MAX_WS_MESSAGE_BYTES",
    "RequestGuard",
    "check_available",
    "check_port",
    "serve",
]

APP: Final = "innosim.dashboard.app"
"""The module holding the Solara ``Page``."""

KERNEL_CULL_TIMEOUT: Final = "10m"
"""How long a disconnected page's session state is kept (Solara's default is a day)."""

EXTRA_HINT: Final = "pip install 'innosim[dashboard]'"

MAX_URL_BYTES: Final = 8 * 1024
"""Longest path plus query string accepted (414 beyond)."""

MAX_HEADER_BYTES: Final = 32 * 1024
"""Largest total size of a request's header names and values (431 beyond)."""

MAX_HEADERS: Final = 100
"""Most header lines in one request (431 beyond)."""

MAX_BODY_BYTES: Final = 64 * 1024
"""Largest request body (413 beyond). The page sends none: its only POST, the close beacon
sent when a page is left, is empty; everything else travels on the websocket."""

MAX_WS_MESSAGE_BYTES: Final = 1024 * 1024
"""Largest websocket message from a page (the connection is closed beyond; the page sends
lever values and clicks, a few hundred bytes each)."""

MAX_INCOMPLETE_BYTES: Final = 16 * 1024
"""Largest request head uvicorn buffers while it arrives (400 beyond)."""

LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})
"""Host names a loopback-bound server answers to (``urlsplit`` drops IPv6 brackets)."""

CDN_PREFIX: Final = "/_solara/cdn/"
"""Where Solara serves the page's front-end files from its asset cache."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestGuard:
    """ASGI middleware in front of Solara's app: refuses what the page never sends.

    * a path plus query over :data:`MAX_URL_BYTES` (414), headers over :data:`MAX_HEADERS` lines
      or :data:`MAX_HEADER_BYTES` (431), a declared body over :data:`MAX_BODY_BYTES` (413) or a
      body without a declared length (411: ``Transfer-Encoding: chunked``);
    * under :data:`CDN_PREFIX`, anything but a GET or HEAD of a regular file inside
      ``cdn_dir`` (404, never passed on: Solara's route fetches a missing file from a CDN,
      which is a request to the network chosen by whoever asks, and deletes a cached
      directory named in the URL before fetching it again);
    * a websocket whose ``Origin`` is not the page's own host (403): another site's page in
      the same browser cannot drive a session;
    * with ``loopback_only`` (the server listens on a loopback address), a ``Host`` other than
      ``127.0.0.1``, ``localhost`` or ``[::1]`` (403): a site whose name was re-pointed at
      127.0.0.1 (DNS rebinding) cannot reach the page through the user's browser.

    Everything else goes to ``app`` unchanged.
    """

    def __init__(self, app: ASGIApp, cdn_dir: Path, loopback_only: bool = True) -> None:
        self.app = app
        self.cdn_dir = Path(os.path.realpath(cdn_dir))
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check an HTTP request or websocket, answer it or pass it on."""
        if scope["type"] == "http":
            status = self._http_refusal(scope)
            if status:
                await _plain(send, status)
                return
        elif scope["type"] == "websocket" and (
            self._websocket_refused(scope) or self._host_refused(scope)
        ):
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)

    def _http_refusal(self, scope: Scope) -> int | None:
        """The status refusing this HTTP request, or ``None`` to pass it on."""
        raw_path: bytes = scope.get("raw_path") or scope.get("path", "").encode()
        if len(raw_path) + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
            return 414
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if len(headers) > MAX_HEADERS or sum(len(k) + len(v) for k, v in headers) > (
            MAX_HEADER_BYTES
        ):
            return 431
        for key, value in headers:
            if key == b"transfer-encoding":
                return 411
            if key == b"content-length":
                try:
                    if int(value) > MAX_BODY_BYTES:
                        return 413
                except ValueError:
                    return 400
        if self._host_refused(scope):
            return 403
        path: str = scope.get("path", "")
        if path.startswith(CDN_PREFIX) and not (
            scope.get("method") in ("GET", "HEAD") and self._cached_file(path)
        ):
            return 404
        return None

    def _cached_file(self, path: str) -> bool:
        """Whether ``path`` (under :data:`CDN_PREFIX`) names a regular file in the cache."""
        rel = path[len(CDN_PREFIX) :]  # already percent-decoded, exactly what Solara looks up
        if not rel or "\\" in rel or "\0" in rel:
            return False
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts):
            return False
        full = Path(os.path.realpath(self.cdn_dir.joinpath(*parts)))
        return full.is_relative_to(self.cdn_dir) and full.is_file()

    def _host_refused(self, scope: Scope) -> bool:
        """Whether ``loopback_only`` and the ``Host`` header names another machine."""
        if not self.loopback_only:
            return False
        host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").lower()
        name = urlsplit(f"//{host}").hostname if host else None
        return name not in LOOPBACK_NAMES

    @staticmethod
    def _websocket_refused(scope: Scope) -> bool:
        """Whether a websocket comes from another site's page (its Origin is not our host)."""
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None:  # not a browser page: nothing another site could abuse
            return False
        host = headers.get(b"host", b"").decode("latin-1").lower()
        return urlsplit(origin.decode("latin-1")).netloc.lower() != host


async def _plain(send: Send, status: int) -> None:
    """Send a short plain-text response with ``status`` and close."""
    body = f"{status} refused by innosim serve\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    # the dashboard extra, imported here: Solara reads the environment set above on import
    import solara.server.settings as settings
    import uvicorn  # the dashboard extra

    assets.install(say=say)

    # a CJK font without a "normal" weight makes Matplotlib log a line per label drawn
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Cookies with samesite=none")

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    if announce:
        announce(f"http://{host}:{port}/")
    from solara.server.starlette import app  # the dashboard extra

    uvicorn.run(
        RequestGuard(app, assets.cache_dir(), loopback_only=_is_loopback(host)),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ws_max_size=MAX_WS_MESSAGE_BYTES,
        h11_max_incomplete_event_size=MAX_INCOMPLETE_BYTES,
    )
