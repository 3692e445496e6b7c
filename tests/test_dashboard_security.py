"""The dashboard server against hostile HTTP: plain requests to a started ``innosim serve``.

Checks (docs/reliability.md, "Dashboard security"): it listens on 127.0.0.1 by default; path
traversal on every static route Solara exposes is refused (4xx, never a file's contents); the
front-end file route serves only files already cached (no fetch from the network, no deletion
of a cached directory); oversized URLs, headers, bodies and websocket messages are refused and
the server stays healthy; another site's page cannot open the websocket, nor reach the server
under a re-pointed host name; nothing the page sends is used as a path.

The server runs on a *copy* of the front-end file cache, so a regression here cannot damage the
cache other tests and servers use. Skipped, with the reason, where Solara is missing or the
front-end files cannot be installed.
"""

from __future__ import annotations

import ast
import http.client
import inspect
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from _tools import load_tool

pytest.importorskip("solara", reason="solara (the 'dashboard' extra) is not installed")

ROOT = Path(__file__).resolve().parents[1]
load_dashboard = load_tool("load_dashboard")

PASSWD = b"root:x:0:0"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """``innosim serve`` on a free port with a copy of the asset cache; yields (server, cache)."""
    from innosim.dashboard import assets
    from innosim.errors import InnosimError

    try:
        assets.install()
    except (InnosimError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"the dashboard's front-end files cannot be installed: {exc}")
    cache = tmp_path_factory.mktemp("security") / "cdn"
    shutil.copytree(assets.cache_dir(), cache)
    server = load_dashboard.start_server(
        log=cache.parent / "serve.log", env={"SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache)}
    )
    try:
        yield server, cache
    finally:
        server.stop()


def _port(server: Any) -> int:
    return int(server.url.rsplit(":", 1)[1].strip("/"))


def _get(
    server: Any, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """Send ``path`` exactly as given (no normalisation) and return (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=30)
    try:
        headers = headers or {}
        conn.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _raw(server: Any, data: bytes, pause_after: int | None = None) -> bytes:
    """Send raw bytes (in two parts, with a pause, when ``pause_after`` is given) and return
    the start of the answer (empty when the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as s:
        try:
            if pause_after is None:
                s.sendall(data)
            else:
                s.sendall(data[:pause_after])
                time.sleep(0.2)
                s.sendall(data[pause_after:])
            return s.recv(200)
        except OSError:
            return b""


def _healthy(server: Any) -> None:
    status, body = _get(server, "/")
    assert status == 200 and b"<html" in body.lower()


# --------------------------------------------------------------------------- loopback


def test_binds_127_0_0_1_by_default(served: tuple[Any, Path]) -> None:
    from innosim.cli.serve import serve_cmd
    from innosim.dashboard import server as server_mod

    assert inspect.signature(server_mod.serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(serve_cmd).parameters["host"].default == "127.0.0.1"
    server, _ = served
    listening = {
        c.laddr.ip
        for c in psutil.Process(server.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {"127.0.0.1"}
    assert "Dashboard: http://127.0.0.1:" in server.log.read_text()


def test_another_host_name_is_refused(served: tuple[Any, Path]) -> None:
    """DNS rebinding: a site re-pointing its name at 127.0.0.1 gets no page."""
    server, _ = served
    port = _port(server)
    assert _get(server, "/", headers={"Host": f"attacker.example:{port}"})[0] == 403
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost", f"[::1]:{port}"):
        assert _get(server, "/", headers={"Host": host})[0] == 200, host


# --------------------------------------------------------------------------- traversal

ROUTES = ("/static/", "/static/public/", "/static/assets/", "/jupyter/nbextensions/")
TRAVERSALS = (
    "../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
    "....//....//....//....//....//....//etc/passwd",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "..%00/etc/passwd",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
)


@pytest.mark.parametrize("route", [*ROUTES, "/_solara/cdn/", "/_solara/cdn/requirejs@2.3.6/", "/"])
def test_path_traversal_is_refused_on_every_static_route(
    served: tuple[Any, Path], route: str
) -> None:
    server, _ = served
    for trick in TRAVERSALS:
        status, body = _get(server, route + trick)
        assert PASSWD not in body, route + trick
        if route != "/":  # "/" answers every unknown path with the page itself
            assert 400 <= status < 500, (route + trick, status)
    # out of the asset cache into the virtual environment / the cache's parent
    for trick in ("../serve.log", "..%2fserve.log", "%2e%2e%2fserve.log"):
        status, body = _get(server, "/_solara/cdn/" + trick)
        assert 400 <= status < 500 and b"Dashboard:" not in body, trick
    _healthy(server)


def test_the_asset_route_serves_only_cached_files(served: tuple[Any, Path]) -> None:
    server, cache = served
    package = next(p for p in cache.iterdir() if (p / "package.json").is_file())
    assert _get(server, f"/_solara/cdn/{package.name}/package.json")[0] == 200
    subdir = next(p for p in package.iterdir() if p.is_dir())
    # Solara's own route deletes a cached directory named in the URL, then fetches it again
    for path in (f"/_solara/cdn/{package.name}/{subdir.name}", f"/_solara/cdn/{package.name}"):
        assert _get(server, path)[0] == 404
    assert subdir.is_dir() and any(subdir.iterdir())
    # a package not cached is not fetched from the network (Solara's route would try, logging
    # "Could not load URL" for each attempt)
    assert _get(server, "/_solara/cdn/left-pad@1.3.0/index.js")[0] == 404
    assert not (cache / "left-pad@1.3.0").exists()
    assert _get(server, f"/_solara/cdn/{package.name}/package.json", method="POST")[0] == 404
    # an encoded name the cache does not hold as such: not looked up decoded twice, not fetched
    assert _get(server, f"/_solara/cdn/{package.name}/package%252ejson")[0] == 404
    assert not (package / "package%2ejson").exists()
    assert "Could not load URL" not in server.log.read_text(errors="replace")
    _healthy(server)


# --------------------------------------------------------------------------- oversized


def test_oversized_requests_are_refused_and_the_server_stays_healthy(
    served: tuple[Any, Path],
) -> None:
    from innosim.dashboard.server import MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_URL_BYTES

    server, _ = served
    host = f"Host: 127.0.0.1:{_port(server)}\r\n".encode()
    long_url = b"GET /" + b"a" * (MAX_URL_BYTES + 10) + b" HTTP/1.1\r\n" + host + b"\r\n"
    assert _raw(server, long_url).startswith(b"HTTP/1.1 414")
    long_query = b"GET /?q=" + b"a" * (MAX_URL_BYTES + 10) + b" HTTP/1.1\r\n" + host + b"\r\n"
    assert _raw(server, long_query).startswith(b"HTTP/1.1 414")
    big_header = b"GET / HTTP/1.1\r\n" + host + b"X-A: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n"
    assert _raw(server, big_header).startswith(b"HTTP/1.1 431")
    many = b"".join(b"X-%d: a\r\n" % i for i in range(2000))
    assert _raw(server, b"GET / HTTP/1.1\r\n" + host + many + b"\r\n").startswith(b"HTTP/1.1 431")
    # a head arriving in parts: uvicorn stops buffering it (400) or closes the connection
    slow = b"GET / HTTP/1.1\r\n" + host + b"X-A: " + b"a" * 100_000 + b"\r\n\r\n"
    answer = _raw(server, slow, pause_after=1000)
    assert answer == b"" or answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431"))
    for path in (b"/", b"/_solara/api/close/" + uuid.uuid4().hex.encode() + b"?session_id=x"):
        body = b"POST " + path + b" HTTP/1.1\r\n" + host
        declared = body + b"Content-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1) + b"a" * 1000
        assert _raw(server, declared).startswith(b"HTTP/1.1 413"), path
        chunked = body + b"Transfer-Encoding: chunked\r\n\r\n" + b"100000\r\n" + b"a" * 1000
        assert _raw(server, chunked).startswith(b"HTTP/1.1 411"), path
    _healthy(server)


def test_websocket_oversized_messages_and_other_sites_are_refused(
    served: tuple[Any, Path],
) -> None:
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from innosim.dashboard.server import MAX_WS_MESSAGE_BYTES

    server, _ = served
    port = _port(server)
    url = (
        f"ws://127.0.0.1:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels"
        f"?session_id={uuid.uuid4()}"
    )
    with pytest.raises(InvalidStatus) as refused:
        with connect(url, origin="http://attacker.example", open_timeout=30):
            pass
    assert refused.value.response.status_code == 403
    with connect(url, origin=f"http://127.0.0.1:{port}", max_size=None, open_timeout=30) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.send("x" * (MAX_WS_MESSAGE_BYTES + 1))
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    _healthy(server)


# --------------------------------------------------------------------------- no paths


def test_the_page_never_turns_input_into_a_path() -> None:
    """The page module opens no file and builds no path; names go through ``prepare``."""
    from innosim.dashboard import app, logic
    from innosim.dashboard.logic import RunRequest, prepare
    from innosim.errors import InputError

    tree = ast.parse(Path(app.__file__).read_text(encoding="utf-8"))
    called = {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    forbidden = {"open", "Path", "load_scenario", "read_csv", "read_parquet", "read_text"}
    assert not called & forbidden, called & forbidden
    assert "pathlib" not in Path(app.__file__).read_text(encoding="utf-8")
    for name in ("../../etc/passwd", "/etc/passwd", "demo.toml", "scenarios/demo", "..", ""):
        with pytest.raises(InputError):
            prepare(RunRequest(name, scale=logic.SCALES[0]))
