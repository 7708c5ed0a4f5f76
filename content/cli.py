"""`juwu`: the one command line that reaches every part of the system.

Subcommands of other packages (display_driver, kiosk) plug in through the entry-point
group ``juwu.commands``: each entry point names a ``register(subparsers)`` function that
adds its parsers and sets ``handler(args, config) -> int`` as the default ``handler``.
That keeps content/ free of imports from the packages that depend on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from content.config import Config, ConfigError, load_config
from content.db import CacheError

Handler = Callable[[argparse.Namespace, Config], int]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="juwu",
        description="居务公开: community disclosure kiosk, LED boards and their local cache.",
    )
    parser.add_argument("--config", metavar="FILE", help="user configuration file (TOML)")
    parser.add_argument(
        "--data-dir", metavar="DIR",
        help="keep the cache and attachments here (overrides paths.data_dir)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    from content import commands  # the cache's own subcommands

    commands.register(sub)
    for ep in entry_points(group="juwu.commands"):
        ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, environ=_environ_with(args))
    except ConfigError as e:
        print(f"juwu: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args, config)
    except CacheError as e:  # the cache file cannot be used: say why and what to do
        print(f"juwu: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _environ_with(args: argparse.Namespace) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if args.data_dir:
        env["JUWU_PATHS__DATA_DIR"] = args.data_dir
    return env


def print_json(data: Any) -> None:
    """--json output: UTF-8 Chinese as is, dates as ISO strings."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
