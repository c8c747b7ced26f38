"""Settings: defaults give the embedded mode, bad values name the setting to fix."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from infrastructure.settings import (
    Settings,
    SettingsError,
    env_name,
    load_settings,
    unknown_env_settings,
)


def test_defaults_are_the_embedded_mode() -> None:
    settings = load_settings({})
    assert settings.storage.engine == "sqlite"
    assert settings.server.port == 8000
    assert settings.queue_url.startswith("sqlite:///") and settings.queue_url.endswith("/var/jobs.db")
    assert settings.storage.sqlite_path == Path("./var/argus.db")


def test_environment_overrides_file_and_file_overrides_defaults(tmp_path: Path) -> None:
    config = tmp_path / "argus.toml"
    config.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[storage]\nengine = "scylla"\n')
    settings = load_settings({"ARGUS_CONFIG_FILE": str(config), "ARGUS_SERVER_PORT": "9100",
                              "ARGUS_STORAGE_SCYLLA_HOSTS": "10.0.0.1, 10.0.0.2,"})
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 9100)
    assert settings.storage.engine == "scylla"
    assert settings.storage.scylla_hosts == ["10.0.0.1", "10.0.0.2"]


@pytest.mark.parametrize(("env", "named"), [
    ({"ARGUS_SERVER_PORT": "eighty"}, "server.port (env ARGUS_SERVER_PORT)"),
    ({"ARGUS_SERVER_PORT": "0"}, "server.port"),
    ({"ARGUS_STORAGE_ENGINE": "postgres"}, "storage.engine (env ARGUS_STORAGE_ENGINE)"),
    ({"ARGUS_QUEUE_EMBEDDED_WORKER": "maybe"}, "queue.embedded_worker"),
    ({"ARGUS_LOG_LEVEL": "LOUD"}, "log.level"),
    ({"ARGUS_STORAGE_SCYLLA_KEYSPACE": "bad-name"}, "storage.scylla_keyspace"),
])
def test_bad_values_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env)


def test_bad_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"ARGUS_CONFIG_FILE": str(tmp_path / "missing.toml")})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport=")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"ARGUS_CONFIG_FILE": str(broken)})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings({"ARGUS_CONFIG_FILE": str(unknown)})


def test_unknown_argus_variables_are_reported_not_fatal() -> None:
    env = {"ARGUS_SERVER_PROT": "1", "ARGUS_EXTRA_HEADERS": "{}", "ARGUS_SERVER_PORT": "1234", "HOME": "/root"}
    assert unknown_env_settings(env) == ["ARGUS_EXTRA_HEADERS", "ARGUS_SERVER_PROT"]
    assert load_settings(env).server.port == 1234


def test_every_setting_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    for group in msgspec.structs.fields(Settings):
        for field in msgspec.structs.fields(group.type):
            assert env_name(group.name, field.name) in docs, f"{group.name}.{field.name} is not documented"
