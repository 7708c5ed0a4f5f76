from __future__ import annotations

from pathlib import Path

import pytest

from content.config import ConfigError, load_config


def test_defaults_load_and_data_dir_from_environment(tmp_path: Path) -> None:
    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp_path)})
    assert config.disclosure.min_display_days == 10
    assert config.disclosure.reply_working_days == 10
    assert config.database_path == tmp_path / "cache.sqlite3"
    assert config.blob_dir == tmp_path / "blobs"


def test_platform_data_dir_when_unset() -> None:
    config = load_config(environ={})
    assert config.data_dir.name == "juwu"


def test_user_file_then_environment_override(tmp_path: Path) -> None:
    user = tmp_path / "juwu.toml"
    user.write_text('[community]\nname = "幸福里社区"\n[search]\ndefault_limit = 30\n',
                    encoding="utf-8")
    config = load_config(user, environ={"JUWU_SEARCH__DEFAULT_LIMIT": "7"})
    assert config.community.name == "幸福里社区"
    assert config.search.default_limit == 7
    assert str(user) in config.sources


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    user = tmp_path / "other.toml"
    user.write_text('[disclosure]\nfinance_cadence = "monthly"\n', encoding="utf-8")
    config = load_config(environ={"JUWU_CONFIG": str(user)})
    assert config.disclosure.finance_cadence == "monthly"


def test_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "example.toml"
    config = load_config(example, environ={})
    assert config.disclosure.affairs_cadence == "quarterly"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[search]\ndefault_limit = \"many\"\n", "search.default_limit: expected int, got str"),
        ("[search]\nlimit = 3\n", "unknown key search.limit"),
        ("[screens]\nx = 1\n", "unknown section [screens]"),
        ("[disclosure]\nfinance_cadence = \"weekly\"\n", "expected one of 'monthly' or"),
        ("[search]\ndefault_limit = true\n", "expected int, got bool"),
        ("[search\n", "not valid TOML"),
        ("search = 3\n", "[search] must be a table"),
    ],
)
def test_wrong_user_file_names_file_key_and_type(tmp_path: Path, text: str,
                                                  expected: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(user, environ={})
    assert str(user) in str(err.value)
    assert expected in str(err.value)


def test_wrong_environment_value_names_variable() -> None:
    with pytest.raises(ConfigError, match=r"JUWU_SEARCH__DEFAULT_LIMIT.*expected int"):
        load_config(environ={"JUWU_SEARCH__DEFAULT_LIMIT": "ten"})
    with pytest.raises(ConfigError, match=r"unknown key search\.nope"):
        load_config(environ={"JUWU_SEARCH__NOPE": "1"})


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", environ={})


# ---- [[boards]] ---------------------------------------------------------------------------
HALL = '[[boards]]\nname = "hall"\nprotocol = "onbon-bx5e"\nport = "/dev/ttyUSB0"\n' \
       'width = 128\nheight = 32\n'


def test_no_boards_by_default() -> None:
    assert load_config(environ={}).boards == ()


def test_example_file_defines_two_boards() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "example.toml"
    hall, gate = load_config(example, environ={}).boards
    assert (hall.name, hall.protocol, hall.port, hall.width, hall.height) == (
        "hall", "onbon-bx5e", "/dev/ttyUSB0", 128, 32)
    assert hall.baudrate is None and hall.quiet_mode == "dim"
    assert (gate.protocol, gate.address, gate.bytesize, gate.parity) == ("alpha", 2, 7, "E")
    assert gate.timeout_s == 2.0


def test_board_defaults_and_lookup(tmp_path: Path) -> None:
    user = tmp_path / "b.toml"
    user.write_text(HALL + 'timeout_s = 1\nquiet_hours = "22:00-06:30"\n', encoding="utf-8")
    config = load_config(user, environ={})
    hall = config.board("hall")
    assert hall.address == 1 and hall.refresh_s == 600 and hall.colour == "mono"
    assert hall.timeout_s == 1.0 and isinstance(hall.timeout_s, float)
    with pytest.raises(ConfigError, match=r"no board named 'gate'.*hall"):
        config.board("gate")


def test_quiet_hours_cross_midnight(tmp_path: Path) -> None:
    import datetime as dt

    user = tmp_path / "b.toml"
    user.write_text(HALL + 'quiet_hours = "22:00-06:30"\n', encoding="utf-8")
    hall = load_config(user, environ={}).board("hall")
    day = dt.datetime(2026, 6, 15)
    assert hall.is_quiet(day.replace(hour=23)) and hall.is_quiet(day.replace(hour=6, minute=29))
    assert not hall.is_quiet(day.replace(hour=6, minute=30))
    assert not hall.is_quiet(day.replace(hour=21, minute=59))
    assert hall.is_quiet(day.replace(hour=22))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("width = 'wide'\n", "boards[0] (hall).width: expected int, got str"),
        ("colour = 'pink'\n", "boards[0] (hall).colour: expected one of 'mono'"),
        ("protocol = 'led9000'\n", "boards[0] (hall).protocol: expected one of 'onbon-bx5e'"),
        ("speed = 3\n", "boards[0] (hall): unknown key speed"),
        ("quiet_hours = '22-6'\n", "boards[0] (hall).quiet_hours: expected \"HH:MM-HH:MM\""),
        ("quiet_hours = '25:00-06:00'\n", "quiet_hours: expected"),
        ("timeout_s = 0\n", "boards[0] (hall).timeout_s: expected more than 0"),
        ("timeout_s = true\n", "timeout_s: expected float, got bool"),
        ("bytesize = 9\n", "boards[0] (hall).bytesize: expected one of 7 or 8"),
        ("stopbits = true\n", "stopbits: expected one of 1 or 2, got True"),
        ("address = 70000\n", "address: expected 0..65535"),
        ("name = 'hall board'\n", "name: expected 1-32 letters"),
        (HALL, "boards[1].name: 'hall' is used by two boards"),
    ],
)
def test_wrong_board_names_file_board_key_and_type(tmp_path: Path, extra: str,
                                                   expected: str) -> None:
    user = tmp_path / "bad.toml"
    # later keys of the same table win in our loader only if TOML allowed duplicates; it
    # does not, so replace the key when it is already in HALL
    lines = [ln for ln in HALL.splitlines()
             if not extra.startswith(ln.split(" = ")[0] + " ") or extra == HALL]
    user.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(user, environ={})
    assert str(user) in str(err.value)
    assert expected in str(err.value)


def test_board_missing_key_and_wrong_shape(tmp_path: Path) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(HALL.replace("height = 32\n", ""), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"boards\[0\] \(hall\): missing key height"):
        load_config(user, environ={})
    user.write_text("boards = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"boards must be an array of tables \(\[\[boards\]\]\)"):
        load_config(user, environ={})
    with pytest.raises(ConfigError, match="can only be set in a configuration file"):
        load_config(environ={"JUWU_BOARDS__PORT": "/dev/ttyS0"})


def test_user_boards_replace_the_list_and_other_sections_still_work(tmp_path: Path) -> None:
    user = tmp_path / "b.toml"
    user.write_text('[search]\ndefault_limit = 5\n' + HALL, encoding="utf-8")
    config = load_config(user, environ={"JUWU_SEARCH__DEFAULT_LIMIT": "6"})
    assert [b.name for b in config.boards] == ["hall"]
    assert config.search.default_limit == 6
