"""Writing a content set (the mapping of docs/content-format.md) as a content directory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w


def _clean(value: Any) -> Any:
    """TOML has no null: drop keys whose value is None, recursively."""
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_content_dir(content: Mapping[str, Any], directory: Path) -> list[Path]:
    """One file per kind, disclosures one file per publication month."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[Path, dict[str, Any]] = {}
    if content.get("community"):
        files[directory / "community.toml"] = {"community": content["community"]}
    by_month: dict[str, list[Any]] = defaultdict(list)
    for d in content.get("disclosure", []):
        by_month[d["publish_on"].strftime("%Y-%m")].append(d)
    for month, items in sorted(by_month.items()):
        files[directory / "disclosures" / f"{month}.toml"] = {"disclosure": items}
    for key, name in (("service", "services"), ("announcement", "announcements"),
                      ("feedback", "feedback"), ("survey_response", "surveys")):
        if content.get(key):
            files[directory / f"{name}.toml"] = {key: content[key]}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tomli_w.dumps(_clean(data), multiline_strings=True), encoding="utf-8")
    return sorted(files)
