"""Outbox chaos: N residents' submissions relayed while the hub fails before and after its
commit (injected at random) and the relay process is SIGKILLed at random instants, again and
again; then one relay runs to the end. The hub must hold each submission exactly once and
the device must have every row acknowledged. Runs a real hub on 127.0.0.1.

    .venv/bin/python -m bench.outbox_chaos [--submissions 1000] [--kills 20] [--seed 1]

A bounded run is in tests/test_sync_chaos.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.search_bench import machine
from content.db import unit_of_work
from content.domain import FeedbackKind, OutboxState, SurveyRating
from content.hub.models import HubFeedback, HubSurvey
from content.models import Feedback, SurveyResponse
from tests.sync_support import Hub, device, respond, running_hub

REPO = Path(__file__).resolve().parent.parent
# The relay process: imports first, says "ready", then relays until nothing is pending.
CHILD = """
import sys
from content.config import load_config
from content.db import open_cache
from content.sync.client import make_session
from content.sync.outbox import relay
config = load_config()
cache = open_cache(config.database_path)
session = make_session(config.sync)
print("ready", flush=True)
while True:
    report = relay(config, cache, session, force=True)
    if not report.pending:
        break
"""


@dataclass
class ChaosResult:
    submissions: int
    kills_asked: int
    kills_landed: int = 0  # SIGKILLs that hit a running relay (others found it finished)
    relay_runs: int = 0
    failed_before_commit: int = 0  # 503 before the hub stored anything
    failed_after_commit: int = 0  # stored, then the answer was lost (502)
    stored: int = 0  # 201 answers the device saw
    duplicates: int = 0  # 200 "duplicate": a replay the hub recognised
    hub_rows: int = 0
    hub_distinct_keys: int = 0
    device_acked: int = 0
    device_other: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def exactly_once(self) -> bool:
        return (self.hub_rows == self.hub_distinct_keys == self.submissions
                and self.device_acked == self.submissions and not self.device_other)


def _submit(dev_cache: Any, n: int) -> list[str]:
    """What the kiosk does: one committed row per submission, with its idempotency key."""
    keys = []
    at = dt.datetime(2026, 6, 10, 9, 30)
    with unit_of_work(dev_cache) as s:
        for i in range(n):
            if i % 2 == 0:
                key = f"chaos-fb-{i}"
                s.add(Feedback(ticket=f"C{i:06d}", idempotency_key=key,
                               kind=FeedbackKind.QUESTION, topic="电梯",
                               text=f"电梯何时修好？第{i}条", contact_name="李阿姨",
                               contact_phone="13800000000", submitted_at=at,
                               due_on=dt.date(2026, 6, 24)))
            else:
                key = f"chaos-sv-{i}"
                s.add(SurveyResponse(idempotency_key=key, survey="2026年度测评",
                                     rating=SurveyRating.SATISFIED, submitted_at=at))
            keys.append(key)
    return keys


def _failing(hub: Hub, result: ChaosResult, rng: random.Random, p_before: float,
             p_after: float) -> None:
    """Mount the failures on both submission endpoints (the hub's event-loop thread)."""

    async def handler(scope: Any, receive: Any, send: Any, app: Any) -> None:
        roll = rng.random()
        if roll < p_before:
            result.failed_before_commit += 1
            await respond(send, 503, b"down before commit")
            return
        statuses: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            if roll >= p_before + p_after:
                await send(message)

        await app(scope, receive, watch)
        if roll < p_before + p_after:
            result.failed_after_commit += 1
            await respond(send, 502, b"answer lost after commit")
        elif statuses and statuses[0] == 201:
            result.stored += 1
        elif statuses and statuses[0] == 200:
            result.duplicates += 1

    hub.board.overrides["/v1/feedback"] = handler
    hub.board.overrides["/v1/surveys"] = handler


def run_chaos(work: Path, *, submissions: int = 1000, kills: int = 20, seed: int = 1,
              p_before: float = 0.05, p_after: float = 0.05,
              max_kill_delay_s: float = 1.0) -> ChaosResult:
    """The whole experiment in `work` (a fresh directory); see the module doc."""
    rng = random.Random(seed)
    result = ChaosResult(submissions, kills)
    t0 = time.perf_counter()
    with running_hub(work) as hub, device(work, hub, retries="0") as dev:
        keys = _submit(dev.cache, submissions)
        _failing(hub, result, random.Random(seed + 1), p_before, p_after)
        env = {**os.environ, "JUWU_PATHS__DATA_DIR": str(dev.config.data_dir),
               "JUWU_SYNC__HUB_URL": hub.url, "JUWU_SYNC__RETRIES": "0",
               "JUWU_SYNC__BACKOFF_FACTOR_S": "0", "JUWU_SYNC__OUTBOX_BATCH": "50"}
        for i in range(kills + 1):
            proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
            result.relay_runs += 1
            assert proc.stdout is not None
            proc.stdout.readline()  # "ready": the kill lands in the relay, not in imports
            if i < kills:
                try:
                    proc.wait(timeout=rng.uniform(0.0, max_kill_delay_s))
                except subprocess.TimeoutExpired:
                    proc.kill()  # SIGKILL: no clean-up, as with a power cut
                    result.kills_landed += 1
            proc.wait(timeout=600)
            proc.stdout.close()
        hub.board.overrides.clear()
        sessions = hub.board.app.state.sessions  # type: ignore[attr-defined]
        with sessions() as s:
            hub_keys = [*s.scalars(select(HubFeedback.idempotency_key)),
                        *s.scalars(select(HubSurvey.idempotency_key))]
        result.hub_rows = len(hub_keys)
        result.hub_distinct_keys = len(set(hub_keys) & set(keys))
        with dev.cache.sessions() as s:
            for model in (Feedback, SurveyResponse):
                for state, n in s.execute(select(model.outbox_state, func.count())
                                          .group_by(model.outbox_state)):
                    if OutboxState(state) is OutboxState.ACKED:
                        result.device_acked += n
                    else:
                        key = OutboxState(state).value
                        result.device_other[key] = result.device_other.get(key, 0) + n
    result.seconds = time.perf_counter() - t0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--p-before", type=float, default=0.05,
                        help="chance the hub fails before its commit (503)")
    parser.add_argument("--p-after", type=float, default=0.05,
                        help="chance the hub commits and the answer is lost (502)")
    parser.add_argument("--max-kill-delay", type=float, default=1.0,
                        help="each kill lands 0..this many seconds into a relay run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run_chaos(Path(tmp), submissions=args.submissions, kills=args.kills,
                      seed=args.seed, p_before=args.p_before, p_after=args.p_after,
                      max_kill_delay_s=args.max_kill_delay)
    print(f"machine: {machine()}")
    print(f"parameters: {r.submissions} submissions, {r.kills_asked} kills asked, seed "
          f"{args.seed}, p_before {args.p_before}, p_after {args.p_after}, kill delay "
          f"0..{args.max_kill_delay} s")
    print(f"relay runs {r.relay_runs}, SIGKILLs that hit a running relay {r.kills_landed}; "
          f"hub failed before commit {r.failed_before_commit}, after commit "
          f"{r.failed_after_commit}; answers: stored {r.stored}, duplicate {r.duplicates}")
    print(f"hub rows {r.hub_rows}, distinct expected keys {r.hub_distinct_keys}; device acked "
          f"{r.device_acked}, other {r.device_other or 'none'}; {r.seconds:.1f} s")
    print(f"exactly once: {'yes' if r.exactly_once else 'NO'}")
    if not r.exactly_once:
        sys.exit(1)


if __name__ == "__main__":
    main()
