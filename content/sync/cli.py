"""`juwu keys init`, `juwu publish`, `juwu sync`, `juwu outbox list|retry` (content/sync/
outbox_cli.py), `juwu hub init|serve|inbox|reply`."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from content.cli import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, print_json
from content.config import Config
from content.db import open_cache
from content.errors import CacheError
from content.importer import ContentError

REPLIED_BY_MAX = 50  # HubFeedback.replied_by


def register(sub: Any) -> None:
    p = sub.add_parser("keys", help="TUF key ceremony (demo keys)")
    ks = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = ks.add_parser("init", help="generate root (2 of 3), approvers' targets and the hub's "
                                   "online keys, and a signed root.json, in DIR")
    k.add_argument("directory", type=Path)
    k.add_argument("--targets-keys", type=int, default=1, help="approvers' keys (default 1)")
    k.add_argument("--targets-threshold", type=int, default=1)
    k.set_defaults(handler=cmd_keys_init)

    p = sub.add_parser("publish", help="validate a content directory, sign it with the "
                                       "approvers' key(s) and publish it on the hub")
    p.add_argument("directory", type=Path)
    p.add_argument("--key", type=Path, action="append", required=True,
                   help="an approver's targets key (repeat up to the threshold)")
    p.add_argument("--hub", help="hub URL (default: sync.hub_url)")
    p.add_argument("--check", action="store_true", help="validate only; sign and send nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_publish)

    p = sub.add_parser("sync", help="one-shot: fetch, verify and apply the hub's content, "
                                    "then relay residents' submissions (exit code: docs/sync.md)")
    p.add_argument("--status", action="store_true", help="only show the last sync and outbox")
    p.add_argument("--no-outbox", action="store_true", help="do not relay submissions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sync)

    from content.sync.outbox_cli import register as register_outbox

    register_outbox(sub)

    p = sub.add_parser("hub", help="the content server")
    hs = p.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    h = hs.add_parser("init", help="install root.json and the online keys from `keys init`")
    h.add_argument("--keys", type=Path, required=True, help="the hub/ directory of `keys init`")
    h.add_argument("--data-dir", dest="hub_data_dir", type=Path)
    h.set_defaults(handler=cmd_hub_init)
    h = hs.add_parser("token", help="make a staff token: the hub keeps its sha256 "
                                    "(hub.staff_token_sha256), staff keep the token")
    h.set_defaults(handler=cmd_hub_token)
    h = hs.add_parser("serve", help="serve the repository and the /v1 API (uvicorn)")
    h.add_argument("--host")
    h.add_argument("--port", type=int)
    h.add_argument("--data-dir", dest="hub_data_dir", type=Path)
    h.set_defaults(handler=cmd_hub_serve)
    h = hs.add_parser("inbox", help="residents' feedback, unanswered first")
    h.add_argument("--all", action="store_true", help="include answered feedback")
    h.add_argument("--data-dir", dest="hub_data_dir", type=Path)
    h.add_argument("--json", action="store_true")
    h.set_defaults(handler=cmd_hub_inbox)
    h = hs.add_parser("reply", help="answer a ticket (reaches kiosks with the next publish)")
    h.add_argument("ticket")
    h.add_argument("text")
    h.add_argument("--by", default="社区居委会", help="who answers (default 社区居委会)")
    h.add_argument("--data-dir", dest="hub_data_dir", type=Path)
    h.set_defaults(handler=cmd_hub_reply)


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"juwu: {message}", file=sys.stderr)
    return code


def cmd_keys_init(args: argparse.Namespace, config: Config) -> int:
    from content.sync.keys import KeyFileError, init_keys

    try:
        layout = init_keys(args.directory, targets_keys=args.targets_keys,
                           targets_threshold=args.targets_threshold)
    except KeyFileError as e:
        return _fail(str(e), EXIT_USAGE)
    d = layout.directory
    print(f"wrote keys to {d} (demo keys: never commit them)\n"
          f"  {d}/root.json            → every device (sync.trusted_root) and the hub\n"
          f"  {d}/offline/root-*.pem   → three custodians, offline; any two re-sign root\n"
          f"  {d}/approvers/*.pem      → the approvers: `juwu publish DIR --key …`\n"
          f"  {d}/hub/                 → `juwu hub init --keys {d}/hub` on the hub")
    return EXIT_OK


def _hub_url(args: argparse.Namespace, config: Config) -> str | None:
    return getattr(args, "hub", None) or config.sync.hub_url or None


def cmd_publish(args: argparse.Namespace, config: Config) -> int:
    from content.sync.client import make_session
    from content.sync.keys import KeyFileError, load_signer
    from content.sync.publish import (
        HubClient,
        PublishRefused,
        build_publication,
        publish,
        staged_content,
    )

    try:
        signers = [load_signer(k) for k in args.key]
    except KeyFileError as e:
        return _fail(str(e), EXIT_USAGE)
    try:
        if args.check:
            with staged_content(args.directory, []) as stage:
                pub = build_publication(stage, config, signers, version=1)
            print(f"valid: {len(pub.manifest.files)} files, "
                  f"{len(pub.manifest.attachments)} attachments")
            return EXIT_OK
        url = _hub_url(args, config)
        if url is None:
            return _fail("no hub: pass --hub URL or set sync.hub_url", EXIT_USAGE)
        hub = HubClient(url, make_session(config.sync), config.sync.read_timeout_s,
                        token=config.hub.staff_token)
        manifest, result = publish(args.directory, config, signers, hub)
    except ContentError as e:
        return _fail(f"nothing was published. {e}")
    except PublishRefused as e:
        return _fail("the hub refused the publication:\n" +
                     "\n".join(f"  - {x}" for x in e.errors))
    except requests.RequestException as e:
        return _fail(f"cannot reach the hub: {e}")
    if args.json:
        print_json({"version": manifest.version, **result})
    else:
        print(f"published version {manifest.version}: {len(manifest.files)} files, "
              f"{len(manifest.attachments)} attachments (timestamp "
              f"{result['timestamp_version']})")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace, config: Config) -> int:
    from content.sync.client import (
        HubFetcher,
        SyncStatus,
        _iso,
        make_session,
        sync,
        sync_status,
    )
    from content.sync.outbox import relay

    try:
        cache = open_cache(config.database_path)
    except CacheError as e:
        return _fail(str(e))
    try:
        if args.status:
            with cache.sessions() as s:
                data = sync_status(s)
            if args.json:
                print_json(data)
            else:
                print(render_sync_status(data))
            return EXIT_OK
        session = make_session(config.sync)
        with _held_warnings() as held:
            outcome = sync(config, cache, fetcher=HubFetcher(config.sync, session))
            result: dict[str, Any] = {"status": outcome.status.value,
                                      "reason": outcome.reason, "message": outcome.message,
                                      "version": outcome.version,
                                      "requests": outcome.requests,
                                      "body_bytes": outcome.body_bytes}
            if (not args.no_outbox
                    and outcome.status not in (SyncStatus.NOT_CONFIGURED, SyncStatus.BUSY)
                    and outcome.reason not in ("network",)):
                r = relay(config, cache, session)
                result["outbox"] = {
                    "acked": r.acked, "parked": r.parked, "pending": r.pending,
                    "error": r.error, "waiting": r.skipped_backoff,
                    "next_attempt_at": _iso(r.next_attempt_at) if r.next_attempt_at else None}
    finally:
        cache.close()
    for line in held:  # the client logs the outcome too; print it once, below
        if outcome.message not in line:
            print(line, file=sys.stderr)
    if args.json:
        print_json(result)
    else:
        print(f"sync {outcome.status.value}: {outcome.message}",
              file=sys.stdout if outcome.exit_code in (0, 10) else sys.stderr)
        if "outbox" in result:
            print(render_relay(result["outbox"]))
    return outcome.exit_code


def render_relay(o: dict[str, Any]) -> str:
    """The outbox line of `juwu sync`: while the relay backs off it sent nothing, and says
    until when, instead of "0 pending" for rows that are still there."""
    if o["waiting"]:
        line = (f"outbox: {o['pending']} pending, not sent: waiting after a failed relay "
                f"until {o['next_attempt_at']}")
    else:
        line = f"outbox: {o['acked']} sent, {o['parked']} parked, {o['pending']} pending"
        if o["error"]:
            line += f" ({o['error']}; next attempt after {o['next_attempt_at']})"
    if o["parked"]:
        line += "\n`juwu outbox list` shows why the hub refused the parked ones"
    return line


@contextmanager
def _held_warnings() -> Iterator[list[str]]:
    """Warnings of juwu's own loggers meanwhile, held instead of printed (with no handler
    Python prints them bare on stderr), so that the command prints each failure once.
    Other libraries' records are left as they were (urllib3 discards its own)."""
    held: list[str] = []

    class Hold(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            held.append(record.getMessage())

    handler = Hold(logging.WARNING)
    target = logging.getLogger("content")
    target.addHandler(handler)
    try:
        yield held
    except BaseException:
        target.removeHandler(handler)
        if not target.hasHandlers():  # the command will not get to print them
            for line in held:
                print(line, file=sys.stderr)
        raise
    finally:
        target.removeHandler(handler)
        if target.hasHandlers():  # configured logging has shown them already
            held.clear()


def render_sync_status(data: dict[str, Any]) -> str:
    st = data["state"]
    out = [f"内容版本 version {st.get('version', '—')}，发布于 {st.get('published_at', '—')}",
           f"最近同步 last attempt {st.get('last_attempt_at', '—')}: "
           f"{st.get('last_result', '—')}; last success {st.get('last_success_at', '—')}"]
    if st.get("last_error"):
        out.append(f"最近错误 ({st.get('last_error_kind')}, {st.get('last_error_at')}): "
                   f"{st['last_error']}")
    if st.get("clock_warning"):
        out.append(f"时钟 clock: {st['clock_warning']}")
    for kind, counts in data["outbox"].items():
        out.append(f"outbox {kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(out)


def _hub_dir(args: argparse.Namespace, config: Config) -> Path:
    if getattr(args, "hub_data_dir", None):
        path: Path = args.hub_data_dir
        return path
    if config.hub.data_dir:
        return Path(config.hub.data_dir).expanduser()
    return config.data_dir / "hub"


def cmd_hub_init(args: argparse.Namespace, config: Config) -> int:
    from content.hub.app import HubPaths
    from content.sync.keys import write_private
    from content.sync.repository import HubRepository, PublishError

    paths = HubPaths(_hub_dir(args, config))
    try:
        HubRepository.install_root(paths.repo, (args.keys / "root.json").read_bytes())
        for name in ("snapshot.pem", "timestamp.pem"):
            dest = paths.keys / name
            if not dest.exists():
                write_private(dest, (args.keys / name).read_bytes())
    except (OSError, PublishError) as e:
        return _fail(f"cannot initialise the hub: {e}")
    if (args.keys.parent / "approvers").exists() and (paths.keys / "approvers").exists():
        shutil.rmtree(paths.keys / "approvers")  # never keep approvers' keys on the hub
    print(f"hub ready in {paths.data_dir}: `juwu hub serve --data-dir {paths.data_dir}`")
    return EXIT_OK


def cmd_hub_token(args: argparse.Namespace, config: Config) -> int:
    from content.hub.app import new_staff_token

    token, digest = new_staff_token()
    print(f"staff token (give it to the staff who publish; shown once):\n  {token}\n"
          f"on the hub, in [hub]:\n  staff_token_sha256 = \"{digest}\"\n"
          f"on staff machines:\n  export JUWU_HUB__STAFF_TOKEN={token}")
    return EXIT_OK


class HubDatabaseUnusable(Exception):
    """The hub database cannot be opened or migrated; the message says why."""


def cmd_hub_serve(args: argparse.Namespace, config: Config) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from content.hub.app import create_app
    from content.hub.migrate import HubSchemaError
    from content.hub.serve import serve

    try:
        app = create_app(_hub_dir(args, config), config.hub)
    except (OSError, ValueError, HubSchemaError, SQLAlchemyError) as e:
        return _fail(f"cannot start the hub: {e}")
    # Our own messages (the watchdog's) beside uvicorn's, which has its own handlers.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s",
                        stream=sys.stderr)
    # uvicorn, plus READY=1 and watchdog pings under systemd (docs/operations.md)
    started = serve(app, args.host or config.hub.host, args.port or config.hub.port)
    return EXIT_OK if started else EXIT_ERROR


def _hub_db(args: argparse.Namespace, config: Config) -> Any:
    """The hub database's sessions (migrated), as `juwu hub serve` would open it.

    Raises:
        HubDatabaseUnusable: unreachable server, bad URL or a schema from a newer juwu.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from content.hub.app import HubPaths
    from content.hub.migrate import HubSchemaError
    from content.hub.models import hub_sessions

    paths = HubPaths(_hub_dir(args, config))
    try:
        return hub_sessions(paths.database_url(config.hub.database_url))[1]
    except (HubSchemaError, SQLAlchemyError, ValueError) as e:
        raise HubDatabaseUnusable(f"cannot open the hub database: {e}") from None


def cmd_hub_inbox(args: argparse.Namespace, config: Config) -> int:
    from content.hub.models import HubFeedback

    try:
        sessions = _hub_db(args, config)
    except HubDatabaseUnusable as e:
        return _fail(str(e))
    with sessions() as s:
        stmt = select(HubFeedback).order_by(HubFeedback.reply_text.is_not(None),
                                            HubFeedback.submitted_at)
        if not args.all:
            stmt = stmt.where(HubFeedback.reply_text.is_(None))
        rows = list(s.scalars(stmt))
    data = [{"ticket": r.ticket, "kind": r.kind, "topic": r.topic, "text": r.text,
             "submitted_at": r.submitted_at.isoformat(), "contact_name": r.contact_name,
             "contact_phone": r.contact_phone, "reply_text": r.reply_text} for r in rows]
    if args.json:
        print_json(data)
        return EXIT_OK
    if not data:
        print("inbox empty: every question has its answer")
    for d in data:
        who = f"（{d['contact_name']} {d['contact_phone'] or ''}）" if d["contact_name"] else ""
        state = "已答复" if d["reply_text"] else "待答复"
        print(f"{d['ticket']} [{state}] {d['topic']}{who} {d['submitted_at']}\n  {d['text']}")
    return EXIT_OK


def cmd_hub_reply(args: argparse.Namespace, config: Config) -> int:
    from content.hub.models import HubFeedback

    if not args.text.strip():
        return _fail("the reply is empty", EXIT_USAGE)
    if len(args.by) > REPLIED_BY_MAX:  # the column's width (PostgreSQL enforces it)
        return _fail(f"--by is longer than {REPLIED_BY_MAX} characters", EXIT_USAGE)
    try:
        sessions = _hub_db(args, config)
    except HubDatabaseUnusable as e:
        return _fail(str(e))
    with sessions.begin() as s:
        row = s.scalars(select(HubFeedback).where(HubFeedback.ticket == args.ticket)).first()
        if row is None:
            return _fail(f"no ticket {args.ticket!r} in the inbox", EXIT_NOT_FOUND)
        row.reply_text = args.text
        row.replied_at = max(dt.datetime.now().replace(microsecond=0), row.submitted_at)
        row.replied_by = args.by
    print(f"answered {args.ticket}; kiosks show it after the next `juwu publish`")
    return EXIT_OK
