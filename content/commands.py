"""The cache's subcommands of `juwu`: init, import, demo-data, demo, search, show, stats."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from content.cli import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, print_json
from content.config import Config
from content.db import Cache, open_cache, unit_of_work
from content.domain import Category, Direction
from content.errors import CacheError, SearchError
from content.formatting import cn_date, display_width, pad, period_text, yuan
from content.importer import ContentError, RawContent, import_content, read_content_dir
from content.migrate import current_revision
from content.models import Disclosure, Service
from content.queries import (
    announcements_between,
    current_disclosures,
    latest_finance,
    open_feedback,
    revision_chain,
    stats,
    today_in,
)
from content.search import SearchFilters, search

Handler = Callable[[argparse.Namespace, Config], int]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _add(sub: Any, name: str, handler: Handler, help_text: str,
         json_flag: bool = True) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text,
                                                     description=help_text)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=handler)
    return parser


def register(sub: Any) -> None:
    _add(sub, "init", cmd_init, "create the local cache (or bring its schema up to date)")

    p = _add(sub, "import", cmd_import, "validate a content directory and load it into the cache")
    p.add_argument("directory", type=Path)
    p.add_argument("--check", action="store_true", help="only validate; write nothing")

    p = _add(sub, "demo-data", cmd_demo_data, "load the demo community into the cache")
    p.add_argument("--anchor", type=_date, help="'today' of the demo content (default: today)")
    p.add_argument("--fresh", action="store_true",
                   help="start from an empty cache (the old file is kept as a .bak copy)")
    p.add_argument("--export", type=Path, metavar="DIR",
                   help="write the demo as a content directory (TOML) instead of loading it")

    p = _add(sub, "demo", cmd_demo,
             "the whole system on this machine: demo keys, a local hub, signed demo content, "
             "a synced kiosk cache, two simulated LED boards and the kiosk window",
             json_flag=False)
    p.add_argument("--anchor", type=_date, help="'today' of the demo (default: today)")
    p.add_argument("--headless", action="store_true",
                   help="no window: run the pipeline, then save kiosk screenshots and board "
                        "PNGs to a folder (for machines without a display)")
    p.add_argument("--seconds", type=float, default=20.0,
                   help="with --headless: how long the boards run (default 20)")
    p.add_argument("--dir", type=Path, metavar="DIR",
                   help="where the demo keeps everything (default: <data_dir>/demo)")

    p = _add(sub, "search", cmd_search, "search disclosures and services (汉字, pinyin, 首字母)")
    p.add_argument("query", nargs="+", help="words to find; all must match")
    p.add_argument("--category", action="append", choices=[c.value for c in Category],
                   help="only this category (repeatable)")
    p.add_argument("--from", dest="period_from", type=_date, help="period overlaps from DATE")
    p.add_argument("--to", dest="period_to", type=_date, help="period overlaps up to DATE")
    p.add_argument("--current", action="store_true", help="only items on display today")
    p.add_argument("--limit", type=int, help="how many hits (default: search.default_limit)")
    p.add_argument("--today", type=_date, help="evaluate 'current' as of DATE")

    p = _add(sub, "show", cmd_show, "show one disclosure (by uid or id) or service (by uid)")
    p.add_argument("ref")

    p = _add(sub, "stats", cmd_stats, "what the cache holds: counts, open questions, surveys")
    p.add_argument("--today", type=_date, help="evaluate as of DATE")

    _add(sub, "doctor", cmd_doctor,
         "check configuration, fonts, cache, keys, hub, clock and boards; say how to fix")

    p = _add(sub, "backup", cmd_backup,
             "copy the cache (or --hub: the hub's database and repository) while it runs")
    p.add_argument("--to", type=Path, metavar="DIR", help="default: <data_dir>/backups")
    p.add_argument("--hub", action="store_true", help="back up the hub instead of the cache")

    p = _add(sub, "restore", cmd_restore,
             "put a backup in place (stop the kiosk, boards and hub first)")
    p.add_argument("backup", type=Path, help="a .sqlite3 file written by `juwu backup`")
    p.add_argument("--hub", action="store_true",
                   help="restore the hub's database and repository (signs a new timestamp)")

    from content.sync.cli import register as register_sync  # keys, publish, sync, hub

    register_sync(sub)


@contextmanager
def _opened(config: Config, path: Path | None = None) -> Iterator[Cache]:
    """The cache for one command. A CacheError reaches `content.cli.main`, which prints it."""
    cache = open_cache(path or config.database_path)
    try:
        yield cache
    finally:
        cache.close()


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"juwu: {message}", file=sys.stderr)
    return code


def cmd_init(args: argparse.Namespace, config: Config) -> int:
    with _opened(config) as cache:
        info = {"database": str(cache.path), "schema_revision": current_revision(cache.engine),
                "data_dir": str(config.data_dir)}
    if args.json:
        print_json(info)
    else:
        print(f"cache ready: {info['database']} (schema {info['schema_revision']})")
    return EXIT_OK


def _load(config: Config, raw: RawContent, actor: str, *, check_only: bool = False,
          db_path: Path | None = None) -> tuple[int, dict[str, Any] | None]:
    with _opened(config, db_path) as cache:
        try:
            with unit_of_work(cache) as session:
                report = import_content(session, raw, config, actor=actor)
                if check_only:
                    session.rollback()
            return EXIT_OK, report.as_dict()
        except (ContentError, CacheError) as e:
            return _fail(f"nothing was loaded. {e}"), None


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    try:
        raw = read_content_dir(args.directory)
    except ContentError as e:
        return _fail(f"nothing was loaded. {e}")
    code, report = _load(config, raw, f"import:{args.directory}", check_only=args.check)
    if report is not None:
        _print_report(report, args.json, "checked" if args.check else "loaded")
    return code


def _print_report(report: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        print_json(report)
        return
    for state in ("created", "updated", "unchanged"):
        if report[state]:
            parts = ", ".join(f"{n} {k}" for k, n in sorted(report[state].items()))
            print(f"{verb}: {state}: {parts}")


def _demo_raw(anchor: dt.date) -> RawContent:
    from content.demo.generate import build_demo

    return RawContent.from_mapping(build_demo(anchor), origin="demo")


def cmd_demo_data(args: argparse.Namespace, config: Config) -> int:
    anchor = args.anchor or today_in(config)
    if args.export:
        from content.demo.generate import build_demo
        from content.export import write_content_dir

        files = write_content_dir(build_demo(anchor), args.export)
        print(f"wrote {len(files)} files to {args.export}")
        return EXIT_OK
    if args.fresh:
        _move_aside(config.database_path)
    code, report = _load(config, _demo_raw(anchor), "demo-data")
    if report is not None:
        _print_report(report, args.json, "demo")
    else:
        print("juwu: if the cache holds demo content of another day, run "
              "`juwu demo-data --fresh` (the old cache is kept as a .bak file).",
              file=sys.stderr)
    return code


def _move_aside(db: Path) -> None:
    if not db.exists():
        return
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = db.with_name(f"{db.name}.{stamp}.bak")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db) + suffix)
        if src.exists():
            shutil.move(src, Path(str(backup) + suffix))
    print(f"kept the previous cache as {backup}")


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    """The production path with demo keys and simulated boards (content/demo_pipeline.py)."""
    from content.demo_pipeline import DemoError, has_display, run_demo

    if not args.headless and not has_display():
        return _fail("there is no display here ($DISPLAY and $WAYLAND_DISPLAY are unset), so "
                     "the kiosk window cannot open.\n      Run `juwu demo --headless`: the same "
                     "pipeline, saving kiosk screenshots and board PNGs to a folder.",
                     EXIT_USAGE)
    anchor = args.anchor or today_in(config)
    root = args.dir or config.data_dir / "demo"

    def write_demo(directory: Path, day: dt.date) -> int:
        from content.demo.generate import build_demo
        from content.export import write_content_dir

        return len(write_content_dir(build_demo(day), directory))

    def overview(db: Path) -> str:
        with _opened(config, db) as cache, cache.sessions() as session:
            return render_overview(session, anchor, config, db)

    try:
        run_demo(root, anchor, headless=args.headless, seconds=args.seconds,
                 write_content=write_demo, overview=overview)
    except DemoError as e:
        return _fail(f"the demo stopped: {e}")
    except KeyboardInterrupt:
        print("demo stopped; every process it started has ended", file=sys.stderr)
        return 130
    return EXIT_OK


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    query = " ".join(args.query)
    today = args.today or today_in(config)
    filters = SearchFilters(
        categories=[Category(c) for c in args.category or []],
        period_from=args.period_from, period_to=args.period_to, current_only=args.current,
    )
    try:
        with _opened(config) as cache, cache.sessions() as session:
            result = search(session, query, today=today, filters=filters,
                            limit=args.limit or config.search.default_limit,
                            max_query_chars=config.search.max_query_chars,
                            candidate_cap=config.search.candidate_cap)
    except SearchError as e:
        return _fail(str(e), EXIT_USAGE)
    if args.json:
        print_json({"query": result.query, "total": result.total,
                    "total_is_lower_bound": result.total_is_lower_bound,
                    "hits": [h.__dict__ for h in result.hits]})
        return EXIT_OK
    more = "+" if result.total_is_lower_bound else ""
    print(f"“{query}”：共 {result.total}{more} 条")
    for hit in result.hits:
        title, snippet = hit.marked()
        state = "现行" if hit.current else "归档"
        label = Category(hit.category).label if hit.doc_type == "disclosure" else "便民服务"
        print(f"\n[{hit.uid}] {title}\n    {label} · {state}"
              + (f" · {cn_date(hit.publish_on)}" if hit.publish_on else ""))
        if snippet:
            print(f"    {snippet}")
    return EXIT_OK if result.hits else EXIT_NOT_FOUND


def cmd_show(args: argparse.Namespace, config: Config) -> int:
    from content import queries

    with _opened(config) as cache, cache.sessions() as session:
        d = queries.disclosure(session, args.ref)
        if d is not None:
            if args.json:
                print_json(disclosure_dict(d, today_in(config)))
            else:
                print(render_disclosure(d, today_in(config)))
            return EXIT_OK
        s = queries.service(session, args.ref)
        if s is not None:
            if args.json:
                print_json(service_dict(s))
            else:
                print(render_service(s))
            return EXIT_OK
    return _fail(f"nothing with uid or id {args.ref!r}; try `juwu search`", EXIT_NOT_FOUND)


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from content.doctor import render, run_checks

    checks = run_checks(config)
    if args.json:
        print_json([c.__dict__ for c in checks])
    else:
        print(render(checks))
    return EXIT_ERROR if any(c.ok is False for c in checks) else EXIT_OK


def _hub_paths(config: Config) -> tuple[Path, Path]:
    """The hub's SQLite database and repository directory (docs/sync.md)."""
    hub_dir = Path(config.hub.data_dir) if config.hub.data_dir else config.data_dir / "hub"
    if config.hub.database_url:
        raise CacheError("hub.database_url points at a database server: back it up with its "
                         "own tools (e.g. pg_dump); `juwu backup --hub` copies SQLite only")
    return hub_dir / "hub.sqlite3", hub_dir / "repo"


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    from content.backup import backup_database

    dest = args.to or config.data_dir / "backups"
    if args.hub:
        database, files = _hub_paths(config)
        result = backup_database(database, dest, label="hub", files=files)
    else:
        result = backup_database(config.database_path, dest, label="cache",
                                 files=config.blob_dir)
    info = {"database": str(result.database), "size_bytes": result.size_bytes,
            "files_copied": result.files_copied}
    if args.json:
        print_json(info)
    else:
        print(f"backup written: {result.database} ({result.size_bytes:,} bytes; "
              f"{result.files_copied} new files copied)")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, config: Config) -> int:
    from content.backup import restore_database

    info: dict[str, Any] = {"restored": str(args.backup)}
    if args.hub:
        from content.hub.restore import restore_hub

        database, repo = _hub_paths(config)
        hub = restore_hub(args.backup, database, repo, database.parent / "keys", config.hub)
        kept = hub.kept
        info.update(files_copied=hub.files_copied, targets_version=hub.targets_version,
                    snapshot_version=hub.snapshot_version,
                    timestamp_version=hub.timestamp_version)
    else:
        kept = restore_database(args.backup, config.database_path, files=config.blob_dir)
        open_cache(config.database_path).close()  # migrate an older backup forward now
    info["previous_kept_as"] = str(kept) if kept else None
    if args.json:
        print_json(info)
        return EXIT_OK
    print(f"restored {args.backup}" + (f"; the previous database is kept as {kept}"
                                        if kept else ""))
    if info.get("timestamp_version"):
        print(f"signed snapshot {info['snapshot_version']} and timestamp "
              f"{info['timestamp_version']} (above every version published before) over "
              f"targets {info['targets_version']}, the newest publication the hub has")
    return EXIT_OK


def disclosure_dict(d: Disclosure, today: dt.date) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": d.id, "uid": d.uid, "category": d.category.value, "kind": d.kind.value,
        "title": d.title, "body": d.body, "period_start": d.period_start,
        "period_end": d.period_end, "publish_on": d.publish_on,
        "take_down_on": d.take_down_on, "current": d.is_current(today),
        "supersedes": d.supersedes.uid if d.supersedes else None,
        "superseded_by": d.superseded_by.uid if d.superseded_by else None,
        "correction_note": d.correction_note,
        "sign_offs": [{"role": s.role.value, "person": s.person, "signed_on": s.signed_on}
                      for s in d.sign_offs],
        "attachments": [{"name": a.name, "media_type": a.media_type, "sha256": a.sha256,
                         "size_bytes": a.size_bytes} for a in d.attachments],
        "revisions": [r.uid for r in revision_chain(d)],
    }
    if d.finance is not None:
        f = d.finance
        data["finance"] = {
            "opening_balance_fen": f.opening_balance_fen, "income_fen": f.income_fen,
            "expense_fen": f.expense_fen, "closing_balance_fen": f.closing_balance_fen,
            "lines": [{"direction": ln.direction.value, "category": ln.category,
                       "item": ln.item, "amount_fen": ln.amount_fen, "note": ln.note}
                      for ln in f.lines],
        }
    return data


def render_disclosure(d: Disclosure, today: dt.date) -> str:
    out = [d.title, "=" * min(60, len(d.title) * 2)]
    state = "现行公开" if d.is_current(today) else "已归档"
    out.append(f"{d.category.label} · {d.kind.label} · {state} · 编号 {d.uid}")
    if d.period_start or d.period_end:
        out.append(f"公开期间所涉：{period_text(d.period_start, d.period_end)}")
    until = cn_date(d.take_down_on) if d.take_down_on else "长期公开"
    out.append(f"公开日期：{cn_date(d.publish_on)}　撤下日期：{until}")
    if d.supersedes is not None:
        out.append(f"更正：本条更正了 {d.supersedes.uid}（{d.correction_note}）")
    if d.superseded_by is not None:
        out.append(f"注意：本条已于 {cn_date(d.superseded_by.publish_on)} 更正，"
                   f"见 {d.superseded_by.uid}")
    out.append("")
    out.append(d.body)
    if d.finance is not None:
        out.append("")
        out.append(render_finance_table(d))
    if d.attachments:
        out.append("")
        out.append("附件：" + "、".join(a.name for a in d.attachments))
    out.append("")
    out.append("签批：" + "；".join(f"{s.role.label} {s.person}（{cn_date(s.signed_on)}）"
                                 for s in d.sign_offs))
    return "\n".join(out)


def render_finance_table(d: Disclosure) -> str:
    f = d.finance
    assert f is not None
    item_width = max([display_width(ln.item) for ln in f.lines] + [8]) + 2
    cat_width = max([display_width(ln.category) for ln in f.lines] + [4]) + 2
    rows = [pad("收支", 6) + pad("类别", cat_width) + pad("项目", item_width)
            + pad("金额（元）", 14, ">")]
    for ln in f.lines:
        label = "收入" if ln.direction is Direction.INCOME else "支出"
        rows.append(pad(label, 6) + pad(ln.category, cat_width) + pad(ln.item, item_width)
                    + pad(yuan(ln.amount_fen), 14, ">"))
    rows.append(f"期初余额 {yuan(f.opening_balance_fen)} 元；收入合计 {yuan(f.income_fen)} 元；"
                f"支出合计 {yuan(f.expense_fen)} 元；期末余额 {yuan(f.closing_balance_fen)} 元")
    return "\n".join(rows)


def service_dict(s: Service) -> dict[str, Any]:
    return {"uid": s.uid, "name": s.name, "kind": s.kind.value, "address": s.address,
            "phone": s.phone, "hours": s.hours, "notes": s.notes, "map_url": s.map_url}


def render_service(s: Service) -> str:
    lines = [f"{s.name}（{s.kind.label}）"]
    for label, value in (("地址", s.address), ("电话", s.phone), ("时间", s.hours),
                         ("说明", s.notes), ("地图", s.map_url)):
        if value:
            lines.append(f"  {label}：{value}")
    return "\n".join(lines)


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    today = args.today or today_in(config)
    with _opened(config) as cache, cache.sessions() as session:
        data = stats(session, today, config)
    if args.json:
        print_json(data)
        return EXIT_OK
    print(render_stats(data))
    return EXIT_OK


def render_stats(data: dict[str, Any]) -> str:
    d = data["disclosures"]
    out = [f"{data['community'] or '(no community loaded)'} · {data['today']}",
           f"公开事项 {d['total']} 条，现行 {d['current']} 条，更正 {d['corrections']} 条"]
    for value in d["by_category"].values():
        out.append(f"  {value['label']}：{value['total']} 条（现行 {value['current']}）")
    out.append(f"便民服务 {data['services']['total']} 项")
    a = data["announcements"]
    out.append(f"显示屏公告 {a['total']} 条，未来 7 天内有效 {a['active_this_week']} 条")
    f = data["feedback"]
    out.append(f"居民意见 {f['total']} 条，待答复 {f['open']} 条，逾期 {f['overdue']} 条")
    for s in data["surveys"]:
        pct = "—" if s["percent"] is None else f"{s['percent']:.1f}%"
        flag = "（低于 90%，须整改）" if s["below_threshold"] else ""
        out.append(f"测评 {s['survey']}：{s['total']} 份，满意率 {pct}{flag}")
    sync = data.get("sync") or {}
    if sync:
        line = (f"同步：内容版本 {sync.get('version', '—')}，最近 {sync.get('last_result', '—')}"
                f"（{sync.get('last_attempt_at', '—')}）")
        if sync.get("last_error"):
            line += f"；原因：{sync['last_error'][:200]}"
        out.append(line)
    outbox = data.get("outbox") or {}
    pending = sum(v.get("pending", 0) for v in outbox.values())
    parked = sum(v.get("parked", 0) for v in outbox.values())
    if pending or parked:
        out.append(f"待上传居民意见/测评 {pending} 条，被中心拒收（需人工处理）{parked} 条")
    return "\n".join(out)


def render_overview(session: Session, today: dt.date, config: Config, db: Path) -> str:
    """What a newcomer sees first: the community's board, as text."""
    data = stats(session, today, config)
    out = ["", render_stats(data), ""]
    out.append("—— 现行公开（最新 8 条）——")
    for d in current_disclosures(session, today, limit=8):
        out.append(f"  [{d.uid}] {d.title}（{d.category.label}，{cn_date(d.publish_on)}）")
    fin = latest_finance(session, today)
    if fin is not None:
        out += ["", f"—— 最近一期财务公开：{fin.title} ——", render_finance_table(fin)]
    start = dt.datetime.combine(today, dt.time())
    out += ["", "—— 本周显示屏公告 ——"]
    for a in announcements_between(session, start, start + dt.timedelta(days=7))[:8]:
        flag = "【紧急】" if a.emergency else ""
        out.append(f"  {flag}{a.text}")
    out += ["", "—— 待答复的居民意见 ——"]
    for f in open_feedback(session)[:5]:
        late = "（已逾期）" if f.due_on < today else ""
        out.append(f"  {f.ticket} {f.topic}：答复期限 {cn_date(f.due_on)}{late}")
    out += ["", "—— 试试搜索 ——"]
    for query in ("梯", "低保", "cwgk", "dangfei"):
        try:
            result = search(session, query, today=today, limit=2)
        except SearchError:
            continue
        first = result.hits[0].marked()[0] if result.hits else "（无结果）"
        out.append(f"  juwu search {query:<8} → 共 {result.total} 条，如：{first}")
    out += ["", f"数据库：{db}",
            f"再看：juwu --data-dir {db.parent} show <编号> / search <词> / stats"]
    return "\n".join(out)
