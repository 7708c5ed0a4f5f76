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
        ("[boards]\nx = 1\n", "unknown section [boards]"),
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
    with pytest.raises(ConfigError, match="JUWU_SEARCH__DEFAULT_LIMIT.*expected int"):
        load_config(environ={"JUWU_SEARCH__DEFAULT_LIMIT": "ten"})
    with pytest.raises(ConfigError, match="unknown key search.nope"):
        load_config(environ={"JUWU_SEARCH__NOPE": "1"})


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", environ={})
