"""`juwu outbox list|retry`: residents' submissions still on this device (docs/sync.md, "Outbox").

The device-side counterpart of `juwu hub inbox`. Safe while the kiosk and the boards run:
`retry` is one short transaction, like a resident's submission.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from content.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, print_json
from content.config import Config
from content.db import open_cache
from content.formatting import display_width
from content.sync.outbox_admin import OutboxRow, Retried, UnknownRef, outbox_rows, relay_wait


def register(sub: Any) -> None:
    text = "residents' submissions not yet on the hub: list them, send parked ones again"
    p = sub.add_parser("outbox", help=text, description=text)
    acts = p.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    text = ("pending and waiting submissions (with the next attempt) and parked ones (with "
            "the hub's HTTP status and answer)")
    o = acts.add_parser("list", help=text, description=text)
    o.add_argument("--json", action="store_true", help="print JSON instead of text")
    o.set_defaults(handler=cmd_outbox_list)
    text = ("queue parked submissions again, for the next sync to send (fix the cause first); "
            "a question whose ticket number the hub already has gets the next free number")
    o = acts.add_parser("retry", help=text, description=text)
    o.add_argument("refs", nargs="*", metavar="ID",
                   help="a ticket, survey-N or idempotency key, as `juwu outbox list` shows")
    o.add_argument("--all-parked", action="store_true", help="every parked submission")
    o.add_argument("--json", action="store_true", help="print JSON instead of text")
    o.set_defaults(handler=cmd_outbox_retry)


def _fail(message: str, code: int) -> int:
    print(f"juwu: {message}", file=sys.stderr)
    return code


def _iso(t: dt.datetime | None) -> str | None:
    from content.sync.client import _iso as iso

    return iso(t) if t is not None else None


def _one_line(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` terminal columns (汉字 take two)."""
    flat = " ".join(text.split())
    if display_width(flat) <= limit:
        return flat
    while display_width(flat) > limit - 1:
        flat = flat[:-1]
    return flat + "…"


def cmd_outbox_list(args: argparse.Namespace, config: Config) -> int:
    now = dt.datetime.now(dt.UTC)
    cache = open_cache(config.database_path)
    try:
        with cache.sessions() as s:
            wait = relay_wait(s)
            rows = outbox_rows(s, now)
    finally:
        cache.close()
    waiting_until = _iso(wait.next_attempt_at) if wait.waiting(now) else None
    parked = sum(r.state == "parked" for r in rows)
    summary = {"to_send": len(rows) - parked, "parked": parked,
               "next_attempt_at": waiting_until, "failures": wait.failures,
               "last_error": wait.last_error}
    if args.json:
        print_json({"summary": summary, "rows": [
            r.as_dict() | {"next_attempt_at": waiting_until if r.state == "waiting" else None}
            for r in rows]})
        return EXIT_OK
    if not rows:
        print("outbox empty: every question and rating is on the hub")
        return EXIT_OK
    head = f"outbox: {summary['to_send']} to send, {parked} parked"
    if waiting_until:
        head += (f"; the relay waits until {waiting_until} after {wait.failures} failed "
                 f"attempt(s) ({_one_line(wait.last_error or '?', 120)})")
    print(head)
    for r in rows:
        print(_render_row(r))
    if parked:
        print("fix the cause, then: juwu outbox retry ID … (or --all-parked); the next "
              "`juwu sync` sends them")
    return EXIT_OK


def _render_row(r: OutboxRow) -> str:
    line = f"{r.state:<8} {r.ref:<16} {r.submitted_at:%Y-%m-%d %H:%M}  {_one_line(r.what, 50)}"
    if r.reason is None:
        return line
    at = f", {r.parked_at:%Y-%m-%d %H:%M} UTC" if r.parked_at else ""
    why = _one_line(r.reason.text, 160) or "no reason recorded"
    line += f"\n         parked{at}: {why}"
    if r.reason.ticket_clash:
        line += ("\n         the hub already has this ticket number for another question; "
                 "retry gives this one a new number")
    return line


def cmd_outbox_retry(args: argparse.Namespace, config: Config) -> int:
    from content.sync.outbox_admin import retry

    if bool(args.refs) == bool(args.all_parked):
        return _fail("name the submissions (ID …) or pass --all-parked", EXIT_USAGE)
    cache = open_cache(config.database_path)
    try:
        done = retry(cache, config, None if args.all_parked else args.refs)
    except UnknownRef as e:
        return _fail(f"not in this device's outbox: {', '.join(e.refs)} (see `juwu outbox "
                     "list`); nothing was changed", EXIT_NOT_FOUND)
    except ValueError as e:  # a new ticket needs a valid sync.device_number
        return _fail(f"{e}; nothing was changed", EXIT_USAGE)
    finally:
        cache.close()
    if args.json:
        print_json([{"ref": d.ref, "kind": d.kind, "outcome": d.outcome,
                     "old_ticket": d.old_ticket,
                     "reason_was": d.reason.text if d.reason else None} for d in done])
        return EXIT_OK
    if not done:
        print("nothing is parked")
        return EXIT_OK
    for d in done:
        print(_render_retried(d))
    queued = sum(d.outcome in ("queued", "renumbered") for d in done)
    if queued:
        print(f"{queued} queued again: the next `juwu sync` (or the periodic sync) sends them")
    return EXIT_OK


def _render_retried(d: Retried) -> str:
    if d.outcome == "renumbered":
        return (f"{d.old_ticket} → {d.ref}: the hub already has {d.old_ticket} for another "
                f"question, so this one is queued as {d.ref}. Tell the resident the new "
                f"number (once it arrives, `juwu hub inbox` shows any contact they left)")
    if d.outcome == "queued":
        was = f" (was {_one_line(d.reason.text, 120)})" if d.reason else ""
        return f"{d.ref}: queued again{was}"
    if d.outcome == "already-pending":
        return f"{d.ref}: not parked; already waiting to be sent"
    return f"{d.ref}: not parked; already on the hub"
