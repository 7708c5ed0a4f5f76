"""The hub's HTTP API (FastAPI; OpenAPI at /openapi.json, docs at /docs).

    GET  /tuf/metadata/{name}     TUF metadata; timestamp.json with ETag/If-None-Match
    GET  /tuf/targets/{path}      content-addressed targets; Range/If-Range; immutable
    GET  /v1/status               repository versions (the publisher signs version + 1)
    GET|PUT /v1/uploads/{sha256}  upload a target's bytes before publishing
    POST /v1/publish              a targets.json signed by the approvers
    POST /v1/feedback, /v1/surveys  residents' submissions, idempotent by key
    GET  /v1/replies              answered feedback, without contact details

Only /tuf/* and the two POSTs of submissions need to be reachable by devices. The staff
endpoints (uploads, publish, replies) also require `Authorization: Bearer <staff token>`,
checked against `hub.staff_token_sha256` (the hub stores only the hash); keep them behind
nginx allow-lists too (docs/sync.md, "Running the hub"). Handlers are plain functions (run
in FastAPI's thread pool), each with its own session (one unit of work per request); the
two async handlers that stream a body do their file work in the thread pool as well, so a
disk flush never stalls the event loop that serves devices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from content.config import HubConfig
from content.hub.models import HubFeedback, HubSurvey, hub_sessions
from content.sync.repository import HubRepository, PublishError, Upload

TARGETS_MAX_BYTES = 5_000_000
# Module level: FastAPI resolves the (string) annotations of dependencies in module globals.
STAFF_BEARER = HTTPBearer(auto_error=False, description="the staff token (`juwu hub token`)")
UPLOAD_BATCH_BYTES = 1 << 20  # chunks handed to a thread-pool write at a time


def _write_all(up: Upload, chunks: list[bytes]) -> None:
    for chunk in chunks:
        up.write(chunk)


@dataclass(frozen=True)
class HubPaths:
    data_dir: Path

    @property
    def repo(self) -> Path:
        return self.data_dir / "repo"

    @property
    def keys(self) -> Path:
        return self.data_dir / "keys"

    def database_url(self, configured: str) -> str:
        return configured or f"sqlite+pysqlite:///{self.data_dir / 'hub.sqlite3'}"


class FeedbackIn(BaseModel):
    """A resident's question, suggestion or complaint as the device sends it."""

    model_config = ConfigDict(extra="forbid")
    idempotency_key: str = Field(min_length=1, max_length=64)
    ticket: str = Field(min_length=1, max_length=32)
    kind: Literal["question", "suggestion", "complaint"]
    topic: str = Field(max_length=100)
    text: str = Field(min_length=1, max_length=5000)
    disclosure: str | None = Field(default=None, max_length=64)
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=30)
    submitted_at: dt.datetime


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    idempotency_key: str = Field(min_length=1, max_length=64)
    survey: str = Field(min_length=1, max_length=100)
    rating: Literal["satisfied", "basic", "dissatisfied"]
    comment: str = Field(default="", max_length=5000)
    submitted_at: dt.datetime


class Stored(BaseModel):
    status: Literal["stored", "duplicate"]
    idempotency_key: str


class ReplyOut(BaseModel):
    ticket: str
    kind: str
    topic: str
    text: str
    disclosure: str | None
    submitted_at: str
    reply_text: str
    replied_at: str
    replied_by: str | None


def _payload_sha(model: BaseModel) -> str:
    body = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def store_once(sessions: sessionmaker[Session], row: HubFeedback | HubSurvey,
               payload_sha: str) -> tuple[int, Stored]:
    """Insert unless the key is known: same payload → 200 duplicate, other payload → 409.

    Raises:
        HTTPException: 409 when the key (or the ticket) is taken by another payload.
    """
    cls = type(row)
    key = row.idempotency_key
    for _attempt in range(2):  # a concurrent insert of the same key loses the race once
        try:
            with sessions.begin() as s:
                existing = s.scalars(select(cls).where(cls.idempotency_key == key)).first()
                if existing is not None:
                    if existing.payload_sha256 == payload_sha:
                        return 200, Stored(status="duplicate", idempotency_key=key)
                    raise HTTPException(409, f"idempotency key {key!r} was used for "
                                             "another submission")
                s.add(row)
            return 201, Stored(status="stored", idempotency_key=key)
        except IntegrityError:
            row = cls(**{c.key: getattr(row, c.key) for c in cls.__table__.columns
                         if c.key != "id"})
            continue
    raise HTTPException(409, f"submission {key!r} conflicts with a stored one (ticket?)")


def new_staff_token() -> tuple[str, str]:
    """A fresh staff token and the sha256 hex the hub stores (256 random bits, so a plain
    hash is enough: there is nothing to guess by brute force)."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def staff_guard(token_sha256: str) -> Any:
    """A FastAPI dependency: 401 unless the request carries the staff token."""
    expected = token_sha256.strip().lower()

    def check(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(STAFF_BEARER)]) -> None:
        given = creds.credentials if creds is not None else ""
        digest = hashlib.sha256(given.encode()).hexdigest()
        if not (expected and given and hmac.compare_digest(digest, expected)):
            raise HTTPException(401, "staff token required" if expected else
                                "the staff API is closed: set hub.staff_token_sha256",
                                headers={"WWW-Authenticate": "Bearer"})
    return check


def create_app(data_dir: Path, config: HubConfig) -> FastAPI:
    """The hub for the repository and database under `data_dir` (`juwu hub init` first)."""
    paths = HubPaths(data_dir)
    repo = HubRepository.open(paths.repo, paths.keys,
                              timestamp_expiry_s=config.timestamp_expiry_s,
                              snapshot_expiry_s=config.snapshot_expiry_s)
    _engine, sessions = hub_sessions(paths.database_url(config.database_url))
    app = FastAPI(title="juwu hub", version="1",
                  description="居务公开 content hub: signed content out, residents' words in.")
    app.state.repo = repo
    app.state.sessions = sessions
    staff = [Depends(staff_guard(config.staff_token_sha256))]

    @app.get("/tuf/metadata/{name}", tags=["tuf"])
    def metadata(name: str, request: Request) -> Response:
        """TUF metadata. timestamp.json answers If-None-Match with 304 (a no-change poll is
        one small request); versioned files never change."""
        if name == "timestamp.json":
            repo.refresh_online()
        path = repo.metadata_path(name)
        if path is None:
            raise HTTPException(404, "no such metadata")
        if name == "timestamp.json":
            data = path.read_bytes()
            etag = f'"{hashlib.sha256(data).hexdigest()}"'
            headers = {"ETag": etag, "Cache-Control": "no-cache"}
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers=headers)
            return Response(data, media_type="application/json", headers=headers)
        return FileResponse(path, media_type="application/json",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    @app.get("/tuf/targets/{url_path:path}", tags=["tuf"])
    def target(url_path: str) -> Response:
        """A target by its hash-prefixed name; Range and If-Range (ETag = its sha256)."""
        path = repo.target_path(url_path)
        if path is None:
            raise HTTPException(404, "no such target")
        sha = path.name.split(".")[0]
        return FileResponse(path, media_type="application/octet-stream", headers={
            "ETag": f'"{sha}"', "Cache-Control": "public, max-age=31536000, immutable"})

    @app.get("/v1/status", tags=["publish"])
    def status() -> dict[str, int]:
        s = repo.status()
        return {"root_version": s.root_version, "targets_version": s.targets_version,
                "snapshot_version": s.snapshot_version,
                "timestamp_version": s.timestamp_version}

    @app.get("/v1/uploads/{sha256}", tags=["publish"], dependencies=staff)
    def upload_present(sha256: str) -> dict[str, bool]:
        return {"present": repo.has_blob(sha256)}

    @app.put("/v1/uploads/{sha256}", tags=["publish"], status_code=201, dependencies=staff)
    async def upload(sha256: str, request: Request) -> dict[str, Any]:
        """A target's bytes, checked against the sha256 in the URL. Writes and the final
        fsync run in the thread pool, a batch of chunks at a time."""
        try:
            up = await run_in_threadpool(repo.begin_upload, sha256, config.max_upload_bytes)
            try:
                batch: list[bytes] = []
                pending = 0
                async for chunk in request.stream():
                    batch.append(chunk)
                    pending += len(chunk)
                    if pending >= UPLOAD_BATCH_BYTES:
                        await run_in_threadpool(_write_all, up, batch)
                        batch, pending = [], 0
                await run_in_threadpool(_write_all, up, batch)
            except BaseException:
                up.abort()
                raise
            size = await run_in_threadpool(up.finish)
        except PublishError as e:
            raise HTTPException(400, {"errors": e.errors}) from None
        return {"sha256": sha256, "size_bytes": size}

    @app.post("/v1/publish", tags=["publish"], dependencies=staff)
    async def publish(request: Request) -> dict[str, int]:
        """A targets.json signed by the approvers' threshold; the hub signs snapshot and
        timestamp. 400 lists every problem; 409 when another publication came first."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > TARGETS_MAX_BYTES:
                raise HTTPException(413, {"errors": ["targets.json is too large"]})
        try:  # verifying, signing and fsyncs: off the event loop
            s = await run_in_threadpool(repo.publish, bytes(body))
        except PublishError as e:
            raise HTTPException(409 if e.conflict else 400, {"errors": e.errors}) from None
        return {"targets_version": s.targets_version, "snapshot_version": s.snapshot_version,
                "timestamp_version": s.timestamp_version}

    def _limit(request: Request) -> None:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > config.max_submission_bytes:
            raise HTTPException(413, "submission too large")

    @app.post("/v1/feedback", tags=["residents"], response_model=Stored, status_code=201,
              responses={200: {"model": Stored}, 409: {}})
    def feedback(item: FeedbackIn, request: Request) -> JSONResponse:
        """Stored exactly once per idempotency key; a replay gets 200, a reuse 409."""
        _limit(request)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        row = HubFeedback(
            idempotency_key=item.idempotency_key, payload_sha256=_payload_sha(item),
            submitted_at=_naive_utc(item.submitted_at), received_at=now, ticket=item.ticket,
            kind=item.kind, topic=item.topic, text=item.text, disclosure=item.disclosure,
            contact_name=item.contact_name, contact_phone=item.contact_phone)
        code, stored = store_once(sessions, row, row.payload_sha256)
        return JSONResponse(stored.model_dump(), status_code=code)

    @app.post("/v1/surveys", tags=["residents"], response_model=Stored, status_code=201,
              responses={200: {"model": Stored}, 409: {}})
    def survey(item: SurveyIn, request: Request) -> JSONResponse:
        _limit(request)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        row = HubSurvey(idempotency_key=item.idempotency_key, payload_sha256=_payload_sha(item),
                        submitted_at=_naive_utc(item.submitted_at), received_at=now,
                        survey=item.survey, rating=item.rating, comment=item.comment)
        code, stored = store_once(sessions, row, row.payload_sha256)
        return JSONResponse(stored.model_dump(), status_code=code)

    @app.get("/v1/replies", tags=["publish"], response_model=list[ReplyOut],
             dependencies=staff)
    def replies() -> list[ReplyOut]:
        """Answered feedback for the next bundle (no contact details)."""
        with sessions() as s:
            rows = s.scalars(select(HubFeedback).where(HubFeedback.reply_text.is_not(None))
                             .order_by(HubFeedback.id))
            return [ReplyOut(ticket=r.ticket, kind=r.kind, topic=r.topic, text=r.text,
                             disclosure=r.disclosure, submitted_at=r.submitted_at.isoformat(),
                             reply_text=r.reply_text or "",
                             replied_at=(r.replied_at or r.received_at).isoformat(),
                             replied_by=r.replied_by) for r in rows]

    @app.get("/healthz", tags=["ops"], responses={503: {}})
    def healthz() -> JSONResponse:
        """200 when the hub can serve: answered from the thread pool after reading the
        database, so a hung loop, pool or database shows (systemd's watchdog asks this)."""
        try:
            with sessions() as s:
                s.scalar(select(HubFeedback.id).limit(1))
        except SQLAlchemyError as e:
            return JSONResponse({"status": "database unavailable",
                                 "error": type(e).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app
