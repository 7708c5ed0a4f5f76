"""Loading a content set (docs/content-format.md) into the cache, all or nothing.

`read_content_dir` reads TOML files; `parse` turns the mapping into typed specs and
collects every problem it finds (file, entry, key and what is wrong) instead of stopping
at the first; `apply` writes a valid set in one transaction. Published disclosures are
never edited in place: a changed text under an existing uid is refused, and a correction
is a new item that names the one it `supersedes` (shared/domain.md, step 4).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.blobs import BlobStore
from content.config import Config, DisclosureConfig
from content.domain import (
    Category,
    Direction,
    FeedbackKind,
    Kind,
    OutboxState,
    ServiceKind,
    SignOffRole,
    SurveyRating,
)
from content.models import (
    MAP_URL_MAX,
    Announcement,
    Attachment,
    AuditEntry,
    Community,
    Disclosure,
    Feedback,
    FinanceLine,
    FinanceStatement,
    Service,
    SignOff,
    SurveyResponse,
)
from content.rules import reply_due, working_days_between
from content.search_index import index_disclosures, index_services

UID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SECTIONS = ("community", "disclosure", "service", "announcement", "feedback", "survey_response")
MAX_FILE_BYTES = 8 << 20
SERVICE_FIELDS = ("name", "kind", "address", "phone", "hours", "notes", "map_url")
E = TypeVar("E")


class ContentError(ValueError):
    """The content set is invalid; `errors` lists every problem, each fit to act on."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "\n".join(f"  - {e}" for e in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s) in the content:\n{shown}{more}")


@dataclass(frozen=True)
class Entry:
    where: str  # e.g. "disclosures/2026-03.toml: disclosure[2]"
    data: Mapping[str, Any]


@dataclass
class RawContent:
    entries: dict[str, list[Entry]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    base_dir: Path | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], origin: str = "content",
                     base_dir: Path | None = None) -> RawContent:
        raw = cls(base_dir=base_dir)
        raw.add(mapping, origin)
        return raw

    def add(self, mapping: Mapping[str, Any], origin: str) -> None:
        for key, value in mapping.items():
            if key not in SECTIONS:
                raise ContentError([f"{origin}: unknown table [{key}] "
                                    f"(known: {', '.join(SECTIONS)})"])
            items = [value] if key == "community" else value
            if not isinstance(items, list):
                raise ContentError([f"{origin}: [{key}] must be an array of tables [[{key}]]"])
            for i, item in enumerate(items):
                where = f"{origin}: {key}" if key == "community" else f"{origin}: {key}[{i}]"
                if not isinstance(item, Mapping):
                    raise ContentError([f"{where}: must be a table"])
                self.entries[key].append(Entry(where, item))


def read_content_dir(path: Path) -> RawContent:
    """Read every *.toml under `path`.

    Raises:
        ContentError: missing directory, unreadable or invalid TOML (all files reported).
    """
    if not path.is_dir():
        raise ContentError([f"{path}: not a directory"])
    raw = RawContent(base_dir=path)
    errors: list[str] = []
    files = sorted(path.rglob("*.toml"))
    if not files:
        errors.append(f"{path}: no .toml files found")
    for file in files:
        rel = file.relative_to(path).as_posix()
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                errors.append(f"{rel}: larger than {MAX_FILE_BYTES} bytes")
                continue
            raw.add(tomllib.loads(file.read_text(encoding="utf-8")), rel)
        except UnicodeDecodeError as e:
            errors.append(f"{rel}: not UTF-8 text ({e.reason} at byte {e.start})")
        except tomllib.TOMLDecodeError as e:
            errors.append(f"{rel}: invalid TOML: {e}")
        except ContentError as e:
            errors.extend(e.errors)
    if errors:
        raise ContentError(errors)
    return raw


# --- typed specs -----------------------------------------------------------------------


@dataclass(frozen=True)
class SignOffSpec:
    role: SignOffRole
    person: str
    signed_on: dt.date


@dataclass(frozen=True)
class LineSpec:
    direction: Direction
    category: str
    item: str
    amount_fen: int
    note: str


@dataclass(frozen=True)
class FinanceSpec:
    opening_balance_fen: int
    lines: tuple[LineSpec, ...]


@dataclass(frozen=True)
class AttachmentSpec:
    path: Path
    name: str
    media_type: str


@dataclass(frozen=True)
class DisclosureSpec:
    where: str
    uid: str
    category: Category
    kind: Kind
    title: str
    body: str
    publish_on: dt.date
    take_down_on: dt.date | None
    period_start: dt.date | None
    period_end: dt.date | None
    supersedes: str | None
    correction_note: str | None
    sign_offs: tuple[SignOffSpec, ...]
    finance: FinanceSpec | None
    attachments: tuple[AttachmentSpec, ...]


@dataclass
class Parsed:
    community: dict[str, str] | None = None
    disclosures: list[DisclosureSpec] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    announcements: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)


class _Fields:
    """Typed reads of one entry; every problem is recorded with where it is."""

    def __init__(self, entry: Entry, errors: list[str], allowed: set[str]) -> None:
        self.entry, self.errors = entry, errors
        label = entry.data.get("uid") or entry.data.get("ticket") or entry.data.get("key")
        self.where = f"{entry.where} ({label})" if isinstance(label, str) else entry.where
        for key in entry.data:
            if key not in allowed:
                self.error(key, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.where}: {key}: {message}")

    def get(self, key: str, kind: type[E], required: bool = True,
            default: E | None = None) -> E | None:
        data = self.entry.data
        if key not in data:
            if required:
                self.error(key, "missing")
            return default
        value = data[key]
        ok = isinstance(value, kind)
        if kind is dt.date and isinstance(value, dt.datetime):
            ok = False  # a date-time where a date belongs
        if kind is int and isinstance(value, bool):
            ok = False
        if not ok:
            got = f"{type(value).__name__} {value!r}"[:120]
            self.error(key, f"expected {_type_name(kind)}, got {got}")
            return default
        return cast(E, value)

    def text(self, key: str, required: bool = True, max_len: int = 10_000,
             default: str = "") -> str:
        value = self.get(key, str, required, default)
        if value is None:
            return default
        if required and not value.strip():
            self.error(key, "must not be empty")
        if len(value) > max_len:
            self.error(key, f"longer than {max_len} characters ({len(value)})")
        if any(ord(c) < 32 and c not in "\n\t" for c in value):
            self.error(key, "contains control characters")
        return value

    def uid(self, key: str = "uid") -> str:
        value = self.text(key)
        if value and not UID_RE.match(value):
            self.error(key, f"{value!r} is not a valid uid (1-64 of a-z 0-9 . _ -)")
        return value

    def url(self, key: str, max_len: int) -> str:
        """An optional http(s) link: what a resident's phone opens from a QR code."""
        value = self.text(key, required=False, max_len=max_len)
        if value and not _is_web_url(value):
            self.error(key, f"{value[:120]!r} is not an http:// or https:// link with a host "
                            "(and no spaces)")
        return value

    def choice(self, key: str, enum_cls: Callable[[str], E], required: bool = True,
               default: E | None = None) -> E | None:
        value = self.get(key, str, required)
        if value is None:
            return default
        try:
            return enum_cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)  # type: ignore[attr-defined]
            self.error(key, f"{value!r} is not one of: {allowed}")
            return default


def _is_web_url(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0  # reading .port checks it
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port_ok


def _type_name(kind: type) -> str:
    return {str: "text", int: "integer", bool: "true/false", dt.date: "date (YYYY-MM-DD)",
            dt.datetime: "date-time (YYYY-MM-DDTHH:MM:SS)", list: "array",
            dict: "table"}.get(kind, kind.__name__)


def parse(raw: RawContent, rules: DisclosureConfig) -> Parsed:
    """Check the whole set against the format and the domain rules.

    Raises:
        ContentError: with every problem found.
    """
    errors: list[str] = []
    parsed = Parsed()
    communities = raw.entries["community"]
    if len(communities) > 1:
        errors.append(f"{communities[1].where}: [community] given more than once")
    if communities:
        f = _Fields(communities[0], errors,
                    {"name", "code", "address", "phone", "office_hours", "description"})
        parsed.community = {
            "name": f.text("name", max_len=200), "code": f.uid("code"),
            "address": f.text("address", False), "phone": f.text("phone", False),
            "office_hours": f.text("office_hours", False),
            "description": f.text("description", False),
        }
    for entry in raw.entries["disclosure"]:
        spec = _parse_disclosure(entry, errors, rules, raw.base_dir)
        if spec is not None:
            parsed.disclosures.append(spec)
    parsed.services = [_parse_service(e, errors) for e in raw.entries["service"]]
    parsed.announcements = [_parse_announcement(e, errors) for e in raw.entries["announcement"]]
    parsed.feedback = [_parse_feedback(e, errors, rules) for e in raw.entries["feedback"]]
    parsed.surveys = [_parse_survey(e, errors) for e in raw.entries["survey_response"]]
    _check_unique(errors, "disclosure uid",
                  ((e.where, e.data.get("uid")) for e in raw.entries["disclosure"]))
    _check_unique(errors, "service uid", ((s["where"], s["uid"]) for s in parsed.services))
    _check_unique(errors, "announcement uid",
                  ((a["where"], a["uid"]) for a in parsed.announcements))
    _check_unique(errors, "feedback ticket", ((f["where"], f["ticket"]) for f in parsed.feedback))
    _check_unique(errors, "survey key", ((s["where"], s["key"]) for s in parsed.surveys))
    _check_unique(errors, "supersedes target",
                  ((d.where, d.supersedes) for d in parsed.disclosures if d.supersedes))
    if errors:
        raise ContentError(errors)
    return parsed


def _check_unique(errors: list[str], what: str, pairs: Iterator[tuple[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for where, value in pairs:
        if not value or not isinstance(value, str):
            continue
        if value in seen:
            errors.append(f"{where}: duplicate {what} {value!r} (first at {seen[value]})")
        else:
            seen[value] = where


DISCLOSURE_KEYS = {
    "uid", "category", "kind", "title", "body", "publish_on", "take_down_on", "period_start",
    "period_end", "supersedes", "correction_note", "sign_offs", "finance", "attachments",
}


def _parse_disclosure(entry: Entry, errors: list[str], rules: DisclosureConfig,
                      base_dir: Path | None) -> DisclosureSpec | None:
    before = len(errors)
    f = _Fields(entry, errors, DISCLOSURE_KEYS)
    uid = f.uid()
    category = f.choice("category", Category)
    kind = f.choice("kind", Kind)
    title = f.text("title", max_len=300)
    body = f.text("body", max_len=100_000)
    publish_on = f.get("publish_on", dt.date)
    take_down_on = f.get("take_down_on", dt.date, required=False)
    period_start = f.get("period_start", dt.date, required=False)
    period_end = f.get("period_end", dt.date, required=False)
    supersedes = f.get("supersedes", str, required=False)
    correction_note = f.get("correction_note", str, required=False)

    if publish_on is not None:
        if take_down_on is None and kind is not None and kind is not Kind.FIXED:
            f.error("take_down_on", f"required for {kind.value} items (only fixed items are "
                                    "permanent)")
        # A posted item stays visible at least 10 days (shared/domain.md, "When").
        if take_down_on is not None and (take_down_on - publish_on).days < rules.min_display_days:
            f.error("take_down_on", f"{take_down_on} is {(take_down_on - publish_on).days} days "
                                    f"after publish_on {publish_on}; items stay up at least "
                                    f"{rules.min_display_days} days")
    if period_start and period_end and period_start > period_end:
        f.error("period_end", f"{period_end} is before period_start {period_start}")
    if supersedes is not None and not correction_note:
        f.error("correction_note", "required when an item supersedes another")
    if supersedes == uid:
        f.error("supersedes", "an item cannot supersede itself")

    sign_offs = _parse_sign_offs(f, publish_on, rules)
    finance = _parse_finance(f)
    if finance is not None and category is not Category.FINANCE:
        f.error("finance", "finance statements belong to category 'finance'")
    attachments = _parse_attachments(f, base_dir)
    if len(errors) > before or None in (category, kind, publish_on):
        return None
    assert category is not None and kind is not None and publish_on is not None
    return DisclosureSpec(
        where=f.where, uid=uid, category=category, kind=kind, title=title, body=body,
        publish_on=publish_on, take_down_on=take_down_on, period_start=period_start,
        period_end=period_end, supersedes=supersedes, correction_note=correction_note,
        sign_offs=sign_offs, finance=finance, attachments=attachments,
    )


def _sub_fields(f: _Fields, key: str, index: int, item: Any, allowed: set[str]) -> _Fields | None:
    if not isinstance(item, Mapping):
        f.error(f"{key}[{index}]", "must be a table")
        return None
    sub = _Fields(Entry(f"{f.where}: {key}[{index}]", item), f.errors, allowed)
    sub.where = f"{f.where}: {key}[{index}]"
    return sub


def _parse_sign_offs(f: _Fields, publish_on: dt.date | None,
                     rules: DisclosureConfig) -> tuple[SignOffSpec, ...]:
    items = f.get("sign_offs", list) or []
    out: list[SignOffSpec] = []
    for i, item in enumerate(items):
        sub = _sub_fields(f, "sign_offs", i, item, {"role", "person", "signed_on"})
        if sub is None:
            continue
        role = sub.choice("role", SignOffRole)
        person = sub.text("person", max_len=200)
        signed_on = sub.get("signed_on", dt.date)
        if role is None or signed_on is None:
            continue
        out.append(SignOffSpec(role, person, signed_on))
        if publish_on is None:
            continue
        if signed_on > publish_on:
            sub.error("signed_on", f"{signed_on} is after publish_on {publish_on}")
        # Review: submitted to the democratic supervision group at least 5 working days
        # before publication (shared/domain.md, "How", step 2).
        if role is SignOffRole.SUPERVISION:
            lead = working_days_between(signed_on, publish_on)
            if lead < rules.review_lead_working_days:
                sub.error("signed_on", f"supervision review on {signed_on} is {lead} working "
                          f"day(s) before publish_on {publish_on}; at least "
                          f"{rules.review_lead_working_days} are required")
    roles = Counter(s.role for s in out)
    for role in SignOffRole:
        if roles[role] == 0:
            f.error("sign_offs", f"missing the {role.value} ({role.label}) sign-off")
        elif roles[role] > 1:
            f.error("sign_offs", f"{role.value} ({role.label}) signed more than once")
    return tuple(out)


def _parse_finance(f: _Fields) -> FinanceSpec | None:
    table = f.get("finance", dict, required=False)
    if table is None:
        return None
    sub = _Fields(Entry(f"{f.where}: finance", table), f.errors, {"opening_balance_fen", "lines"})
    sub.where = f"{f.where}: finance"
    opening = sub.get("opening_balance_fen", int)
    lines: list[LineSpec] = []
    for i, item in enumerate(sub.get("lines", list) or []):
        line = _sub_fields(sub, "lines", i, item,
                           {"direction", "category", "item", "amount_fen", "note"})
        if line is None:
            continue
        direction = line.choice("direction", Direction)
        amount = line.get("amount_fen", int)
        if amount is not None and amount < 0:
            line.error("amount_fen", f"{amount} is negative; record refunds as income/expense")
        spec_line = LineSpec(direction or Direction.INCOME, line.text("category", max_len=100),
                             line.text("item", max_len=200), amount or 0,
                             line.text("note", required=False))
        if direction is not None and amount is not None:
            lines.append(spec_line)
    if not lines and sub.get("lines", list, required=False) is not None:
        sub.error("lines", "a finance statement needs at least one line item")
    if opening is None:
        return None
    return FinanceSpec(opening, tuple(lines))


def _parse_attachments(f: _Fields, base_dir: Path | None) -> tuple[AttachmentSpec, ...]:
    out: list[AttachmentSpec] = []
    for i, item in enumerate(f.get("attachments", list, required=False) or []):
        sub = _sub_fields(f, "attachments", i, item, {"path", "name", "media_type"})
        if sub is None:
            continue
        rel = sub.text("path", max_len=500)
        name = sub.text("name", max_len=200)
        media_type = sub.text("media_type", max_len=100)
        if not rel:
            continue
        if base_dir is None:
            sub.error("path", "attachments need a content directory to be read from")
            continue
        candidate = (base_dir / rel).resolve()
        if Path(rel).is_absolute() or not candidate.is_relative_to(base_dir.resolve()):
            sub.error("path", f"{rel!r} points outside the content directory")
        elif not candidate.is_file():
            sub.error("path", f"{rel!r}: no such file in the content directory")
        else:
            out.append(AttachmentSpec(candidate, name, media_type))
    return tuple(out)


def _parse_service(entry: Entry, errors: list[str]) -> dict[str, Any]:
    f = _Fields(entry, errors, {"uid", "name", "kind", "address", "phone", "hours", "notes",
                                "map_url"})
    return {
        "where": f.where, "uid": f.uid(), "name": f.text("name", max_len=200),
        "kind": f.choice("kind", ServiceKind, default=ServiceKind.OTHER),
        "address": f.text("address", False, 300), "phone": f.text("phone", False, 50),
        "hours": f.text("hours", False, 200), "notes": f.text("notes", False),
        "map_url": f.url("map_url", MAP_URL_MAX),
    }


def _parse_announcement(entry: Entry, errors: list[str]) -> dict[str, Any]:
    f = _Fields(entry, errors, {"uid", "text", "valid_from", "valid_until", "rrule",
                                "duration_minutes", "priority", "boards", "emergency"})
    valid_from = f.get("valid_from", dt.datetime)
    valid_until = f.get("valid_until", dt.datetime, required=False)
    if valid_from and valid_until and valid_until <= valid_from:
        f.error("valid_until", f"{valid_until} is not after valid_from {valid_from}")
    rrule = f.get("rrule", str, required=False)
    duration = f.get("duration_minutes", int, required=False)
    if rrule is not None and valid_from is not None:
        from dateutil.rrule import rrulestr

        try:
            rrulestr(rrule, dtstart=valid_from)
        except (ValueError, TypeError) as e:
            f.error("rrule", f"not a valid RFC 5545 rule: {e}")
        if duration is None:
            f.error("duration_minutes", "required with rrule (how long each showing lasts)")
    if duration is not None and duration <= 0:
        f.error("duration_minutes", "must be positive")
    boards = f.get("boards", list, required=False, default=[]) or []
    if not all(isinstance(b, str) and b for b in boards):
        f.error("boards", "must be a list of board names")
    return {
        "where": f.where, "uid": f.uid(), "text": f.text("text", max_len=500),
        "valid_from": valid_from, "valid_until": valid_until, "rrule": rrule,
        "duration_minutes": duration, "priority": f.get("priority", int, False, 0),
        "boards": list(boards), "emergency": f.get("emergency", bool, False, False),
    }


def _parse_feedback(entry: Entry, errors: list[str], rules: DisclosureConfig) -> dict[str, Any]:
    f = _Fields(entry, errors, {"ticket", "kind", "topic", "text", "submitted_at", "disclosure",
                                "contact_name", "contact_phone", "reply_text", "replied_at",
                                "replied_by"})
    kind = f.choice("kind", FeedbackKind)
    submitted = f.get("submitted_at", dt.datetime)
    contact_name = f.get("contact_name", str, required=False)
    reply_text = f.get("reply_text", str, required=False)
    replied_at = f.get("replied_at", dt.datetime, required=False)
    if (reply_text is None) != (replied_at is None):
        f.error("replied_at", "reply_text and replied_at go together")
    if submitted and replied_at and replied_at < submitted:
        f.error("replied_at", f"{replied_at} is before submitted_at {submitted}")
    due = None
    if submitted is not None:
        due = reply_due(submitted.date(),
                        complaint=kind is FeedbackKind.COMPLAINT and bool(contact_name),
                        reply_working_days=rules.reply_working_days,
                        named_complaint_days=rules.named_complaint_days)
    return {
        "where": f.where, "ticket": f.text("ticket", max_len=32), "kind": kind,
        "topic": f.text("topic", max_len=100), "text": f.text("text", max_len=5000),
        "submitted_at": submitted, "disclosure": f.get("disclosure", str, required=False),
        "contact_name": contact_name,
        "contact_phone": f.get("contact_phone", str, required=False),
        "reply_text": reply_text, "replied_at": replied_at,
        "replied_by": f.get("replied_by", str, required=False), "due": due,
    }


def _parse_survey(entry: Entry, errors: list[str]) -> dict[str, Any]:
    f = _Fields(entry, errors, {"key", "survey", "rating", "comment", "submitted_at"})
    return {
        "where": f.where, "key": f.text("key", max_len=64),
        "survey": f.text("survey", max_len=100), "rating": f.choice("rating", SurveyRating),
        "comment": f.text("comment", False), "submitted_at": f.get("submitted_at", dt.datetime),
    }


# --- applying ----------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"created": dict(self.created), "updated": dict(self.updated),
                "unchanged": dict(self.unchanged)}


def import_content(session: Session, raw: RawContent, config: Config, *,
                   actor: str = "import") -> ImportReport:
    """Validate `raw` and write it in the caller's transaction.

    Raises:
        ContentError: the set is invalid or conflicts with what the cache holds;
            nothing is written (the caller's transaction is rolled back by the caller).
    """
    parsed = parse(raw, config.disclosure)
    report = ImportReport()
    blobs = BlobStore(config.blob_dir)
    errors: list[str] = []
    if parsed.community:
        _apply_community(session, parsed.community, report)
    # Only the published items this set names (its own uids, what it corrects, what
    # feedback refers to): a bulk load must not read the whole archive per batch.
    wanted = ({d.uid for d in parsed.disclosures}
              | {d.supersedes for d in parsed.disclosures if d.supersedes}
              | {f["disclosure"] for f in parsed.feedback if f["disclosure"]})
    existing = _published(session, wanted)
    created: list[Disclosure] = []
    # Items a correction refers to must exist before the correction is stored.
    for spec in sorted(parsed.disclosures, key=lambda s: (s.supersedes is not None, s.publish_on)):
        staged = _apply_disclosure(session, spec, existing, blobs, report, errors, actor)
        if staged is not None:
            created.append(staged)
    session.flush()  # one flush for the whole set: batched INSERTs
    index_disclosures(session, created, new=True)
    changed_services = [svc for s in parsed.services
                        if (svc := _apply_service(session, s, report, actor)) is not None]
    session.flush()
    index_services(session, changed_services)
    for a in parsed.announcements:
        _apply_announcement(session, a, report, actor)
    for fb in parsed.feedback:
        _apply_feedback(session, fb, existing, report, errors)
    for sv in parsed.surveys:
        _apply_survey(session, sv, report)
    if errors:
        raise ContentError(errors)
    session.flush()
    return report


def _published(session: Session, uids: set[str]) -> dict[str, Disclosure]:
    found: dict[str, Disclosure] = {}
    ordered = sorted(uids)
    for start in range(0, len(ordered), 900):
        for d in session.scalars(select(Disclosure).where(
                Disclosure.uid.in_(ordered[start:start + 900]))):
            found[d.uid] = d
    return found


def _apply_community(session: Session, values: dict[str, str], report: ImportReport) -> None:
    row = session.get(Community, values["code"])
    for other in session.scalars(select(Community).where(Community.code != values["code"])):
        session.delete(other)  # one community per cache
    if row is None:
        session.add(Community(**values))
        report.created["community"] += 1
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        report.updated["community"] += 1
    else:
        report.unchanged["community"] += 1


def _same_disclosure(row: Disclosure, spec: DisclosureSpec) -> bool:
    return (row.title, row.body, row.category, row.kind, row.publish_on, row.take_down_on,
            row.period_start, row.period_end) == (
        spec.title, spec.body, spec.category, spec.kind, spec.publish_on, spec.take_down_on,
        spec.period_start, spec.period_end)


def _apply_disclosure(session: Session, spec: DisclosureSpec, existing: dict[str, Disclosure],
                      blobs: BlobStore, report: ImportReport, errors: list[str],
                      actor: str) -> Disclosure | None:
    """Stage a new disclosure (not flushed, not indexed); None if nothing is new."""
    row = existing.get(spec.uid)
    if row is not None:
        if _same_disclosure(row, spec):
            report.unchanged["disclosure"] += 1
        else:
            errors.append(f"{spec.where}: disclosure {spec.uid!r} is already published with "
                          "different content; publish a correction with a new uid and "
                          f"supersedes = {spec.uid!r} instead of changing it")
        return None
    target = None
    if spec.supersedes:
        target = existing.get(spec.supersedes)
        if target is None:
            errors.append(f"{spec.where}: supersedes {spec.supersedes!r}, which is not "
                          "published")
            return None
        if target.superseded_by is not None:
            errors.append(f"{spec.where}: {spec.supersedes!r} was already corrected by "
                          f"{target.superseded_by.uid!r}; correct that one instead")
            return None
    row = Disclosure(
        uid=spec.uid, category=spec.category, kind=spec.kind, title=spec.title,
        body=spec.body, publish_on=spec.publish_on, take_down_on=spec.take_down_on,
        period_start=spec.period_start, period_end=spec.period_end, supersedes=target,
        correction_note=spec.correction_note,
        sign_offs=[SignOff(role=s.role, person=s.person, signed_on=s.signed_on)
                   for s in spec.sign_offs],
    )
    if spec.finance is not None:
        row.finance = FinanceStatement(
            opening_balance_fen=spec.finance.opening_balance_fen,
            lines=[FinanceLine(seq=i, direction=ln.direction, category=ln.category,
                               item=ln.item, amount_fen=ln.amount_fen, note=ln.note)
                   for i, ln in enumerate(spec.finance.lines)],
        )
    for a in spec.attachments:
        sha, size = blobs.put_file(a.path)
        row.attachments.append(Attachment(name=a.name, media_type=a.media_type, sha256=sha,
                                          size_bytes=size))
    session.add(row)
    existing[spec.uid] = row
    _audit(session, actor, "correct" if target else "publish", "disclosure", spec.uid,
           {"supersedes": spec.supersedes} if target else {})
    report.created["disclosure"] += 1
    return row


def _apply_service(session: Session, s: dict[str, Any], report: ImportReport,
                   actor: str) -> Service | None:
    """Stage a new or changed service; None when unchanged."""
    values = {k: s[k] for k in SERVICE_FIELDS}
    row = session.scalars(select(Service).where(Service.uid == s["uid"])).one_or_none()
    if row is None:
        row = Service(uid=s["uid"], **values)
        session.add(row)
        report.created["service"] += 1
        action = "create"
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        report.updated["service"] += 1
        action = "update"
    else:
        report.unchanged["service"] += 1
        return None
    _audit(session, actor, action, "service", s["uid"], {})
    return row


def _apply_announcement(session: Session, a: dict[str, Any], report: ImportReport,
                        actor: str) -> None:
    keys = ("text", "valid_from", "valid_until", "rrule", "duration_minutes", "priority",
            "boards", "emergency")
    values = {k: a[k] for k in keys}
    row = session.scalars(select(Announcement).where(Announcement.uid == a["uid"])).one_or_none()
    if row is None:
        session.add(Announcement(uid=a["uid"], **values))
        report.created["announcement"] += 1
        _audit(session, actor, "create", "announcement", a["uid"], {})
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        report.updated["announcement"] += 1
        _audit(session, actor, "update", "announcement", a["uid"], {})
    else:
        report.unchanged["announcement"] += 1


def _apply_feedback(session: Session, fb: dict[str, Any], existing: dict[str, Disclosure],
                    report: ImportReport, errors: list[str]) -> None:
    disclosure = None
    if fb["disclosure"]:
        disclosure = existing.get(fb["disclosure"])
        if disclosure is None:
            errors.append(f"{fb['where']}: disclosure: {fb['disclosure']!r} is not published")
            return
    row = session.scalars(select(Feedback).where(Feedback.ticket == fb["ticket"])).one_or_none()
    if row is None:
        session.add(Feedback(
            ticket=fb["ticket"], idempotency_key=f"import:{fb['ticket']}", kind=fb["kind"],
            disclosure=disclosure, topic=fb["topic"], text=fb["text"],
            contact_name=fb["contact_name"], contact_phone=fb["contact_phone"],
            submitted_at=fb["submitted_at"], due_on=fb["due"].on,
            due_is_estimate=fb["due"].estimate, reply_text=fb["reply_text"],
            replied_at=fb["replied_at"], replied_by=fb["replied_by"],
            outbox_state=OutboxState.ACKED,  # it came from the hub: nothing to send back
        ))
        report.created["feedback"] += 1
    elif fb["reply_text"] and row.reply_text != fb["reply_text"]:
        row.reply_text, row.replied_at, row.replied_by = (
            fb["reply_text"], fb["replied_at"], fb["replied_by"])
        report.updated["feedback"] += 1
    else:
        report.unchanged["feedback"] += 1


def _apply_survey(session: Session, sv: dict[str, Any], report: ImportReport) -> None:
    exists = session.scalars(
        select(SurveyResponse.id).where(SurveyResponse.idempotency_key == sv["key"])
    ).first()
    if exists is not None:
        report.unchanged["survey_response"] += 1
        return
    session.add(SurveyResponse(idempotency_key=sv["key"], survey=sv["survey"],
                               rating=sv["rating"], comment=sv["comment"],
                               submitted_at=sv["submitted_at"],
                               outbox_state=OutboxState.ACKED))
    report.created["survey_response"] += 1


def _audit(session: Session, actor: str, action: str, entity: str, uid: str,
           detail: dict[str, Any]) -> None:
    session.add(AuditEntry(actor=actor, action=action, entity=entity, entity_uid=uid,
                           detail=detail))
