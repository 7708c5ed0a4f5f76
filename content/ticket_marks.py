"""The highest ticket number this kiosk has handed out per day, kept in a file beside the cache.

Tickets are numbered from the cache (the day's highest + 1, content.submissions). A cache
put back from a backup (`juwu restore`) has forgotten the numbers issued after the backup,
but the hub has them: the kiosk would hand a resident a number the hub already holds for
another question, the hub would refuse it (409) and the question would be parked. Worse,
the other question's answer would come back in a bundle under that number and be shown to
the wrong resident.

So each ticket is also recorded here, in ``<cache>.tickets.json`` next to the cache file,
before the submission commits, and numbering starts above both. The file is not part of a
backup and a restore does not touch it, so it is not rolled back with the cache. (A file,
rather than a table, for exactly that reason.) Renumbering a question after the clash
instead would change a number the resident has already been given.

It only knows what this data directory issued: a kiosk rebuilt on a new SD card from a
backup starts without it (docs/troubleshooting.md, "the outbox"). Damage never stops a
submission: an unreadable file counts as empty and a failed write is logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from content.durable import fsync_dir, fsync_file

log = logging.getLogger(__name__)

# "Q20260615-" (kiosk 0) or "Q20260615-2" (kiosk 2): what content.submissions numbers after.
_PREFIX = re.compile(r"Q\d{8}-\d?")
MAX_NUMBER = 999  # tickets carry three digits after the prefix
KEEP_DAYS = 62  # days kept (x 10 kiosk numbers): a clock set back a month is still covered


def parse_marks(text: str) -> dict[str, int]:
    """The valid entries of the file's text; anything else (damage, hand edits) is dropped."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(k, str) and _PREFIX.fullmatch(k) and type(v) is int
            and 0 < v <= MAX_NUMBER}


@dataclass(frozen=True)
class TicketMarks:
    path: Path

    @classmethod
    def beside(cls, cache_path: Path) -> TicketMarks:
        """The marks of the cache at `cache_path` (``cache.sqlite3`` → ``cache.tickets.json``)."""
        return cls(cache_path.with_name(f"{cache_path.stem}.tickets.json"))

    def read(self) -> dict[str, int]:
        try:
            return parse_marks(self.path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return {}
        except OSError as e:
            log.warning("%s: cannot read the issued ticket numbers (%s); numbering from the "
                        "cache alone", self.path, e)
            return {}

    def high(self, prefix: str) -> int:
        """The highest number issued under `prefix` (0: none known)."""
        return self.read().get(prefix, 0)

    def raise_to(self, prefix: str, number: int) -> None:
        """Record `number` as issued under `prefix` (never lowers a mark).

        Callers hold the cache's write lock, which keeps two writers from interleaving here.
        """
        marks = self.read()
        if marks.get(prefix, 0) >= number or not _PREFIX.fullmatch(prefix):
            return
        marks[prefix] = min(number, MAX_NUMBER)
        newest = sorted(marks, key=lambda p: (p[1:9], p), reverse=True)[:KEEP_DAYS * 10]
        body = json.dumps({p: marks[p] for p in sorted(newest)}, indent=0) + "\n"
        try:
            self._write(body)
        except OSError as e:  # the resident's question matters more than the mark
            log.warning("%s: cannot record issued ticket %s%03d (%s); after a restore of "
                        "the cache this number could be issued again", self.path, prefix,
                        number, e)

    def _write(self, body: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            fsync_file(Path(tmp))
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        fsync_dir(self.path.parent)
