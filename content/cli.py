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
from typing import Any

from content.config import Config, ConfigError, load_config
from content.errors import CacheError

Handler = Callable[[argparse.Namespace, Config], int]

# The juwu.commands entry points of this distribution's own packages, as pyproject.toml
# declares them (tests/test_cli.py keeps the two equal). Named here, as text, so that
# `juwu kiosk` and `juwu board …` load their one package without importlib.metadata, whose
# import and scan of every installed distribution cost the kiosk's start-up ~30 ms
# (bench/kiosk_bench.py). Other plug-ins are found through the entry points as ever.
OWN_PLUGINS = {"board": "display_driver.cli:register", "kiosk": "kiosk.cli:register"}

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand, or only the package that provides `command` when another does.

    `juwu kiosk` then imports the kiosk and not the cache's own commands (SQLAlchemy,
    Alembic), which would double the kiosk's start-up (bench/kiosk_bench.py).
    """
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
    if command in OWN_PLUGINS:
        _load(OWN_PLUGINS[command])(sub)
        return parser
    from importlib.metadata import entry_points

    plugins = {ep.name: ep for ep in entry_points(group="juwu.commands")}
    if command in plugins:
        plugins[command].load()(sub)
        return parser
    from content import commands  # the cache's own subcommands

    commands.register(sub)
    for ep in plugins.values():
        ep.load()(sub)
    return parser


def _load(reference: str) -> Callable[[Any], None]:
    """``module:function`` (an entry point's value), imported."""
    import importlib

    module, _, attr = reference.partition(":")
    register: Callable[[Any], None] = getattr(importlib.import_module(module), attr)
    return register


def _command_word(argv: Sequence[str] | None) -> str | None:
    """The subcommand's name in `argv` (after the global options), if there is one."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("--data-dir")
    _known, rest = pre.parse_known_args(argv)
    return rest[0] if rest else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_command_word(argv))
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
