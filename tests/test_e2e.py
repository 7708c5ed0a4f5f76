"""End to end, as an installation runs: staff publish → hub → device sync → search and
boards → a resident's question back through the outbox → staff reply → the device.

Every step an operator or a timer runs is the real `juwu` command in its own process
(`hub serve`, `publish`, `sync`, `hub inbox`, `hub reply`, `board run`) against a hub
process on 127.0.0.1; the resident's question is stored the way the kiosk stores it
(content.submissions, in this process). The board is a simulator on a TCP port that
decodes the frames; the announcement's end is checked with an injected clock.
Then the hub goes down in the middle (the question waits in the outbox and arrives once),
and a `juwu sync` is killed mid-apply (old content or new; the next sync finishes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from content.config import Config, load_config, local_now
from content.db import Cache, open_cache
from content.domain import OutboxState
from content.hub.app import HubPaths, new_staff_token
from content.models import Feedback
from content.search import search
from content.submissions import feedback_by_ticket, submit_feedback
from content.sync.client import read_state
from content.sync.keys import KeyLayout, init_keys, write_private
from content.sync.repository import HubRepository
from display_driver.driver import Driver
from display_driver.protocols import BoardGeometry
from display_driver.simhost import TcpHost
from display_driver.simulator import OnbonGraphicSimulator
from tests.conftest import disclosure
from tests.sync_support import PUBLISH_ON, content_mapping, free_socket, write_content
from tests.test_board_driver import FAST, SimClock, cfg, fast_ports, pages_of
from tests.test_sync_crash import CHILD

REPO = Path(__file__).resolve().parent.parent
JUWU = [sys.executable, "-c", "import sys; from content.cli import main; sys.exit(main())"]
WELCOME = "欢迎来到幸福里社区"
WATER = "紧急通知：今晚停水"
QUESTION = "三号楼电梯什么时候修好？"
REPLY = "下周一开始维修，预计三天完成。"
DEADLINE_S = 30.0


@dataclass
class Site:
    """One community: a hub process, a staff machine and a device, sharing a config."""

    tmp: Path
    keys: KeyLayout
    port: int
    env: dict[str, str]
    config: Config
    hub: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def juwu(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        """One `juwu` command, as an operator or a timer runs it."""
        done = subprocess.run([*JUWU, *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode in ok, (args, done.returncode, done.stdout, done.stderr)
        return done

    def start_hub(self) -> None:
        self.hub = subprocess.Popen([*JUWU, "hub", "serve"], cwd=REPO, env=self.env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        deadline = time.monotonic() + DEADLINE_S
        while not _healthy(self.url):  # polling for start-up, with a deadline
            assert self.hub.poll() is None, "the hub exited at start-up"
            assert time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.05)

    def stop_hub(self) -> None:
        if self.hub is not None:
            os.killpg(self.hub.pid, signal.SIGTERM)
            try:
                self.hub.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.hub.pid, signal.SIGKILL)
                self.hub.wait(10)
            self.hub = None

    def publish(self, directory: Path) -> int:
        out = self.juwu("publish", str(directory), "--key", str(self.keys.targets_key(1)),
                        "--json").stdout
        version: int = json.loads(out)["version"]
        return version

    def sync(self, ok: tuple[int, ...] = (0, 10)) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.juwu("sync", "--json", ok=ok).stdout)
        return result

    def inbox_count(self, ticket: str) -> int:
        return self.inbox_counts(ticket)[0]

    def inbox_counts(self, *tickets: str) -> list[int]:
        """How many times each ticket is in the hub's inbox (`juwu hub inbox`)."""
        rows = json.loads(self.juwu("hub", "inbox", "--all", "--json").stdout)
        return [sum(1 for r in rows if r["ticket"] == t) for t in tickets]


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _toml(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def board() -> Iterator[tuple[TcpHost, OnbonGraphicSimulator]]:
    sim = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    host = TcpHost([sim])
    yield host, sim
    host.close()


@pytest.fixture
def site(tmp_path: Path, board: tuple[TcpHost, OnbonGraphicSimulator]) -> Iterator[Site]:
    keys = init_keys(tmp_path / "keys")
    hub_dir = tmp_path / "hub"
    paths = HubPaths(hub_dir)
    HubRepository.install_root(paths.repo, keys.root_json.read_bytes())
    for name in ("snapshot.pem", "timestamp.pem"):
        write_private(paths.keys / name, (keys.hub_dir / name).read_bytes())
    token, digest = new_staff_token()
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    config_file = tmp_path / "juwu.toml"
    config_file.write_text(f"""
[paths]
data_dir = {_toml(tmp_path / "device")}
[sync]
hub_url = "http://127.0.0.1:{port}"
trusted_root = {_toml(keys.root_json)}
retries = 1
backoff_factor_s = 0.0
backoff_jitter_s = 0.0
connect_timeout_s = 2.0
read_timeout_s = 5.0
download_deadline_s = 10.0
outbox_backoff_max_s = 0.0
[hub]
host = "127.0.0.1"
port = {port}
data_dir = {_toml(hub_dir)}
staff_token_sha256 = "{digest}"
staff_token = "{token}"
[[boards]]
name = "hall"
protocol = "onbon-bx5e"
port = {_toml(board[0].url)}
width = 128
height = 32
address = 1
""", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUWU_")}
    env["JUWU_CONFIG"] = str(config_file)
    s = Site(tmp_path, keys, port, env, load_config(str(config_file), environ=env))
    s.start_hub()
    try:
        yield s
    finally:
        s.stop_hub()


def community(now: dt.datetime, n: int = 2) -> dict[str, Any]:
    """Staff's content: disclosures, a standing notice and an emergency valid for 1 h."""
    mapping = content_mapping(n)
    mapping["disclosure"].append(disclosure("council-2026", "居民议事会决议公示",
                                            "关于加装电梯的议事结果。", PUBLISH_ON))
    start = now.replace(second=0, microsecond=0)
    mapping["announcement"] = [
        {"uid": "welcome", "text": WELCOME, "valid_from": start - dt.timedelta(days=1)},
        {"uid": "water", "text": WATER, "emergency": True,
         "valid_from": start - dt.timedelta(hours=1), "valid_until": start + dt.timedelta(hours=1)},
    ]
    return mapping


def _hits(cache: Cache, query: str, today: dt.date) -> set[str]:
    with cache.sessions() as s:
        return {h.uid for h in search(s, query, today=today, limit=50).hits}


def _wait(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():  # another process brings it about; bounded
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def test_publish_sync_board_question_reply_outage_and_kill(
        site: Site, board: tuple[TcpHost, OnbonGraphicSimulator]) -> None:
    host, sim = board
    now = local_now(site.config)
    today = now.date()
    content = write_content(site.tmp / "content", community(now))

    # Staff publish an item and an emergency announcement; the device syncs over HTTP.
    assert site.publish(content) == 1
    assert site.sync(ok=(0,))["status"] == "updated"
    cache = open_cache(site.config.database_path)
    try:
        assert "council-2026" in _hits(cache, "议事", today)  # searchable on the device

        # The board (a real `juwu board run` process) shows the emergency, decoded by the
        # simulator on the other end of the TCP line.
        site.juwu("board", "run", "--once", "--no-sync")
        _wait(lambda: sim.pages == pages_of(WATER), "the board to show the emergency")
        assert sim.errors == []

        # ... and reverts by itself when it ends (the driver's clock injected).
        end = now.replace(second=0, microsecond=0) + dt.timedelta(hours=1)
        clock = SimClock(end - dt.timedelta(minutes=2), end + dt.timedelta(minutes=3))
        seen: list[tuple[dt.datetime, str]] = []

        def watch() -> None:
            for text in (WATER, WELCOME):
                if sim.pages == pages_of(text) and (not seen or seen[-1][1] != text):
                    seen.append((clock.now, text))

        host.on_change = watch
        driver = Driver(site.config, cache, boards=[cfg("hall", host.url, address=1)],
                        clock=clock, sleep=clock.sleep, settings=FAST, ports=fast_ports())
        clock.driver = driver
        driver.run()
        host.on_change = None
        assert [text for _, text in seen] == [WATER, WELCOME]
        assert seen[-1][0] == end

        # A resident asks at the kiosk; the next sync relays it; the hub has it once.
        ticket = submit_feedback(cache, site.config, topic="电梯", text=QUESTION).ticket
        assert site.sync()["outbox"]["acked"] == 1
        assert site.inbox_count(ticket) == 1

        # Staff reply on the hub and republish; the reply reaches the device's ticket.
        site.juwu("hub", "reply", ticket, REPLY)
        assert site.publish(content) == 2
        assert site.sync(ok=(0,))["status"] == "updated"
        with cache.sessions() as s:
            fb = feedback_by_ticket(s, ticket)
            assert fb is not None and fb.reply_text == REPLY

        # The hub goes down in the middle: the next question waits in the outbox, the
        # device keeps its content; when the hub is back it arrives once.
        site.stop_hub()
        ticket2 = submit_feedback(cache, site.config, topic="停水", text="停水到几点？").ticket
        assert site.sync(ok=(11,))["status"] == "unreachable"
        with cache.sessions() as s:
            fb2 = feedback_by_ticket(s, ticket2)
            assert fb2 is not None and fb2.outbox_state is OutboxState.PENDING
        assert "council-2026" in _hits(cache, "议事", today)
        site.start_hub()
        assert site.sync()["outbox"]["acked"] == 1
        assert site.sync()["outbox"]["acked"] == 0  # nothing sent twice
        assert site.inbox_counts(ticket, ticket2) == [1, 1]
        site.juwu("hub", "reply", ticket2, "预计今晚22点恢复。")
        assert site.publish(content) == 3
        site.sync(ok=(0,))
        with cache.sessions() as s:
            fb2 = feedback_by_ticket(s, ticket2)
            assert fb2 is not None and fb2.reply_text == "预计今晚22点恢复。"
            assert s.scalar(select(func.count()).select_from(Feedback)) == 2

        # A sync killed mid-apply (SIGKILL at the commit): old content, then the next
        # sync finishes the job.
        bigger = write_content(site.tmp / "content-4", community(now, n=30),
                               attachment=b"%PDF e2e" * 2000)
        assert site.publish(bigger) == 4
        child = subprocess.run([sys.executable, "-c", CHILD, "before-commit"], cwd=REPO,
                               env=site.env, capture_output=True, timeout=60)
        assert child.returncode == -signal.SIGKILL
        with cache.sessions() as s:
            assert read_state(s).get("version") == "3"  # the old content, whole
        assert "affairs-029" not in _hits(cache, "电梯维修公示29", today)
        assert site.sync(ok=(0,))["status"] == "updated"
        with cache.sessions() as s:
            assert read_state(s).get("version") == "4"
            fb = feedback_by_ticket(s, ticket)
            assert fb is not None and fb.reply_text == REPLY  # replies kept across bundles
        assert "affairs-029" in _hits(cache, "电梯维修公示29", today)
    finally:
        cache.close()
