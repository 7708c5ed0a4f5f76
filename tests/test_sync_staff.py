"""The hub's staff endpoints (uploads, publish, replies) need the staff token; the hub keeps
only its sha256. Devices' endpoints (/tuf, submissions) stay open."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests

from tests.sync_support import Hub, running_hub

SHA = "0" * 64


def staff_calls(hub: Hub, headers: dict[str, str]) -> list[int]:
    u = hub.url
    return [requests.get(f"{u}/v1/uploads/{SHA}", headers=headers, timeout=10).status_code,
            requests.put(f"{u}/v1/uploads/{SHA}", data=b"x", headers=headers,
                         timeout=10).status_code,
            requests.post(f"{u}/v1/publish", data=b"{}", headers=headers,
                          timeout=10).status_code,
            requests.get(f"{u}/v1/replies", headers=headers, timeout=10).status_code]


def test_staff_endpoints_refuse_without_the_token(hub: Hub) -> None:
    assert staff_calls(hub, {}) == [401] * 4
    assert staff_calls(hub, {"Authorization": "Bearer wrong"}) == [401] * 4
    r = requests.get(f"{hub.url}/v1/replies", timeout=10)
    assert r.headers["WWW-Authenticate"] == "Bearer"
    token = hub.config.hub.staff_token
    assert hashlib.sha256(token.encode()).hexdigest() == hub.config.hub.staff_token_sha256
    ok = staff_calls(hub, {"Authorization": f"Bearer {token}"})
    assert ok == [200, 400, 400, 200]  # past the guard: a wrong hash, a bad targets.json
    # Devices need no token.
    assert requests.get(f"{hub.url}/tuf/metadata/1.root.json", timeout=10).status_code == 200
    spec = requests.get(f"{hub.url}/openapi.json", timeout=10).json()
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_no_configured_token_closes_the_staff_api(tmp_path: Path) -> None:
    with running_hub(tmp_path, {"JUWU_HUB__STAFF_TOKEN_SHA256": ""}) as hub:
        token = hub.config.hub.staff_token
        assert staff_calls(hub, {"Authorization": f"Bearer {token}"}) == [401] * 4
        r = requests.get(f"{hub.url}/v1/replies", headers={"Authorization": "Bearer "},
                         timeout=10)
        assert "closed" in r.text


def test_hub_token_command_prints_token_and_hash(capsys: pytest.CaptureFixture[str]) -> None:
    from content.cli import main

    assert main(["hub", "token"]) == 0
    out = capsys.readouterr().out.split()
    token = out[out.index("JUWU_HUB__STAFF_TOKEN=" + out[-1].split("=", 1)[1])].split("=", 1)[1]
    assert f'"{hashlib.sha256(token.encode()).hexdigest()}"' in out
