"""Test support for sync: a real hub (uvicorn) on 127.0.0.1, keys, content, a device.

The hub runs in a thread on a free port; `Switchboard` sits in front of the FastAPI app so
a test can mount an attack or a failure on one path (a compromised or failing hub) while
every other request reaches the real hub.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from content.config import Config, load_config
from content.db import Cache, open_cache
from content.export import write_content_dir
from content.hub.app import HubPaths, create_app, new_staff_token
from content.sync.client import HubFetcher, SyncOutcome, make_session, sync
from content.sync.keys import KeyLayout, init_keys, load_signer, write_private
from content.sync.publish import HubClient, publish
from content.sync.repository import HubRepository
from tests.conftest import disclosure

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
PUBLISH_ON = dt.date(2026, 6, 1)
MAP_URL = "https://uri.amap.com/marker?position=116.39747,39.90873"


class Switchboard:
    """ASGI wrapper: `overrides[path](scope, receive, send, inner_app)` replaces a path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.overrides: dict[str, Callable[..., Awaitable[None]]] = {}
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"])
            handler = self.overrides.get(scope["path"])
            if handler is not None:
                await handler(scope, receive, send, self.app)
                return
        await self.app(scope, receive, send)


async def respond(send: Send, status: int, body: bytes = b"",
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Hub:
    url: str
    data_dir: Path
    board: Switchboard
    repo: HubRepository
    keys: KeyLayout
    config: Config

    @property
    def repo_dir(self) -> Path:
        return self.data_dir / "repo"

    def client(self) -> HubClient:
        return HubClient(self.url, make_session(self.config.sync), 10,
                         token=self.config.hub.staff_token)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running_hub(tmp: Path, hub_env: dict[str, str] | None = None) -> Iterator[Hub]:
    keys = init_keys(tmp / "keys")
    data_dir = tmp / "hubdata"
    paths = HubPaths(data_dir)
    HubRepository.install_root(paths.repo, keys.root_json.read_bytes())
    for name in ("snapshot.pem", "timestamp.pem"):
        write_private(paths.keys / name, (keys.hub_dir / name).read_bytes())
    token, digest = new_staff_token()
    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp / "publisher"),
                                  "JUWU_HUB__STAFF_TOKEN": token,
                                  "JUWU_HUB__STAFF_TOKEN_SHA256": digest, **(hub_env or {})})
    app = create_app(data_dir, config.hub)
    board = Switchboard(app)
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(board, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # waiting for start-up, not for a result
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("hub did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield Hub(url, data_dir, board, app.state.repo, keys, config)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def device_config(tmp: Path, hub: Hub, name: str = "device", **extra: str) -> Config:
    env = {"JUWU_PATHS__DATA_DIR": str(tmp / name), "JUWU_SYNC__HUB_URL": hub.url,
           "JUWU_SYNC__TRUSTED_ROOT": str(hub.keys.root_json),
           "JUWU_SYNC__BACKOFF_FACTOR_S": "0", "JUWU_SYNC__BACKOFF_JITTER_S": "0",
           "JUWU_SYNC__RETRIES": "3", "JUWU_SYNC__READ_TIMEOUT_S": "5",
           "JUWU_SYNC__DOWNLOAD_DEADLINE_S": "10"}
    env.update({f"JUWU_SYNC__{k.upper()}": v for k, v in extra.items()})
    return load_config(environ=env)


def content_mapping(n: int = 2, *, extra_title: str = "") -> dict[str, Any]:
    items = [disclosure(f"affairs-{i:03d}", f"电梯维修公示{i}{extra_title}",
                        f"三号楼电梯更换，第{i}期。", PUBLISH_ON) for i in range(n)]
    return {
        "community": {"name": "幸福里社区", "code": "xingfuli"},
        "disclosure": items,
        "service": [{"uid": "svc-repair", "name": "便民维修点", "kind": "repair",
                     "phone": "010-1234", "map_url": MAP_URL}],
    }


def write_content(directory: Path, mapping: dict[str, Any],
                  attachment: bytes | None = None) -> Path:
    if attachment is not None:
        (directory / "attachments").mkdir(parents=True, exist_ok=True)
        (directory / "attachments" / "plan.pdf").write_bytes(attachment)
        mapping["disclosure"][0]["attachments"] = [
            {"path": "attachments/plan.pdf", "name": "方案.pdf",
             "media_type": "application/pdf"}]
    write_content_dir(mapping, directory)
    return directory


def publish_dir(hub: Hub, directory: Path) -> int:
    manifest, _ = publish(directory, hub.config, [load_signer(hub.keys.targets_key(1))],
                          hub.client())
    return manifest.version


@dataclass
class Device:
    config: Config
    cache: Cache
    clock: Callable[[], dt.datetime] | None = None
    fetchers: list[HubFetcher] = field(default_factory=list)

    def sync(self, clock: Callable[[], dt.datetime] | None = None) -> SyncOutcome:
        fetcher = HubFetcher(self.config.sync, make_session(self.config.sync))
        self.fetchers.append(fetcher)
        return sync(self.config, self.cache, clock=clock or self.clock, fetcher=fetcher)


@contextmanager
def device(tmp: Path, hub: Hub, name: str = "device", **extra: str) -> Iterator[Device]:
    config = device_config(tmp, hub, name, **extra)
    cache = open_cache(config.database_path)
    try:
        yield Device(config, cache)
    finally:
        cache.close()


# --- a throwaway PostgreSQL server (the hub's district database) --------------------------


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
                if (p.parent / "initdb").exists() and p.parent.parent.name.isdigit()]
    return max(versions, key=lambda b: int(b.parent.name)) if versions else None


def postgres_unavailable() -> str | None:
    """Why a PostgreSQL server cannot be started here (None: it can)."""
    if postgres_bindir() is None:
        return ("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                "apt-get install postgresql (.ci/run does)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """initdb into a temporary directory and start postgres on 127.0.0.1 (a free port,
    trust auth, fsync off: the data is thrown away). As root, the server runs as the
    'postgres' user (it refuses root). `pg_ctl start -w` returns once it accepts
    connections; stopped with `-m immediate` and deleted afterwards."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError(postgres_unavailable() or "no PostgreSQL")
    run_as: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="juwu-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        run_as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data = root / "data"
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "juwu", "--auth=trust",
                        "--no-locale", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True, cwd=root, **run_as)
        for _attempt in range(3):  # the free port can be taken before postgres binds it
            sock = free_socket()
            port = sock.getsockname()[1]
            sock.close()
            opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
                    "-c full_page_writes=off -c synchronous_commit=off -c max_connections=60")
            started = subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l",
                                      str(root / "log"), "-w", "-t", "60", "-o", opts, "start"],
                                     capture_output=True, cwd=root, **run_as)
            if started.returncode == 0:
                break
        else:
            log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
            raise RuntimeError(f"postgres did not start: {started.stderr!r}\n{log[-2000:]}")
        try:
            yield PostgresServer("127.0.0.1", port, "juwu")
        finally:
            subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                            "stop"], capture_output=True, cwd=root, **run_as)
    finally:
        shutil.rmtree(root, ignore_errors=True)
