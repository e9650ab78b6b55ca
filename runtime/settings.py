# SPDX-License-Identifier: Apache-2.0
"""Settings: `CLAUDE_MEM_*` environment variables over `settings.json` in the data directory over
defaults, validated, with an error that names the bad variable."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

ENV_PREFIX = "CLAUDE_MEM_"
DEFAULT_DATA_DIR = "~/.claude-mem/server"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable (or the settings-file key)."""


class Settings(msgspec.Struct, kw_only=True):
    """Every setting, its type and default. The docs' settings table is checked against this."""

    data_dir: str = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 37777
    auth_mode: Literal["local-dev", "api-key"] = "local-dev"
    queue_engine: Literal["sqlite", "dramatiq"] = "sqlite"
    queue_workers: Annotated[int, Meta(ge=1, le=64)] = 2
    redis_url: str | None = None
    redis_host: str = "127.0.0.1"
    redis_port: Annotated[int, Meta(ge=1, le=65535)] = 6379
    redis_mode: Literal["external", "managed"] = "external"
    queue_redis_prefix: str = "claude-mem"
    queue_lock_ttl_ms: Annotated[int, Meta(ge=500, le=600_000)] = 10_000
    embedded_worker: bool = False
    embedder: Literal["none", "static"] = "static"
    vector_cache_mb: Annotated[int, Meta(ge=0, le=65_536)] = 256
    context_tokens: Annotated[int, Meta(ge=50, le=100_000)] = 2000
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_048_576
    max_import_bytes: Annotated[int, Meta(ge=1024)] = 1_073_741_824
    max_field_chars: Annotated[int, Meta(ge=256)] = 16_000
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 3
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cors_origins: str = ""
    signing_key: str | None = None
    rate_limit_per_min: Annotated[int, Meta(ge=0)] = 0
    distiller: Literal["rules", "llm"] = "rules"
    llm_provider: Literal["openai", "anthropic"] = "openai"
    llm_base_url: str = ""
    llm_api_key: str | None = None
    llm_model: str = ""
    llm_timeout_s: Annotated[float, Meta(gt=0, le=600)] = 30.0
    llm_max_retries: Annotated[int, Meta(ge=0, le=10)] = 2

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def db_path(self) -> Path:
        return self.data_path / "claude-mem-server.db"

    @property
    def pid_path(self) -> Path:
        return self.data_path / "server.pid"

    @property
    def log_path(self) -> Path:
        return self.data_path / "logs" / "server.log"

    @property
    def valkey_url(self) -> str:
        """Where the dramatiq engine finds Valkey (managed mode: the URL its server wrote)."""
        if self.redis_mode == "managed":
            url_file = self.data_path / "valkey.url"
            return url_file.read_text("utf-8").strip() if url_file.exists() else ""
        return self.redis_url or f"redis://{self.redis_host}:{self.redis_port}/0"

    @property
    def base_url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


FIELDS = {f.name: f for f in msgspec.structs.fields(Settings)}


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _from_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "settings.json"
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: expected a JSON object")
    out = {}
    for key, value in raw.items():
        name = key.removeprefix(ENV_PREFIX).lower()
        if name not in FIELDS:
            raise SettingsError(f"{path}: unknown setting {key!r}")
        out[name] = value
    return out


def load(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the settings file, then the environment, then explicit overrides."""
    env = os.environ if environ is None else environ
    data_dir = Path(overrides.get("data_dir") or env.get(env_name("data_dir")) or DEFAULT_DATA_DIR).expanduser()
    values: dict[str, Any] = _from_file(data_dir)
    sources = {k: f"{data_dir / 'settings.json'}: {k}" for k in values}
    for name in FIELDS:
        var = env_name(name)
        if var in env and env[var] != "":
            values[name] = env[var]
            sources[name] = var
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
            sources[name] = f"--{name.replace('_', '-')}"
    values["data_dir"] = str(data_dir)
    # Validate one field at a time, so the error names the variable it came from.
    for name, value in values.items():
        try:
            msgspec.convert({name: value}, Settings, strict=False)
        except msgspec.ValidationError as exc:
            msg = str(exc).split(" - at ")[0]
            raise SettingsError(f"{sources.get(name, name)}={value!r}: {msg}") from None
    settings = msgspec.convert(values, Settings, strict=False)
    check(settings)
    return settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def in_container() -> bool:
    """True inside the project's container image, which sets CLAUDE_MEM_CONTAINER=1.

    Marker files such as /.dockerenv are not used: virtual machines built from container
    images keep them, and a laptop there must still be able to use local-dev.
    """
    return os.environ.get("CLAUDE_MEM_CONTAINER") == "1"


def check(s: Settings) -> None:
    """Rules across settings that make a server unsafe or unable to start."""
    if s.auth_mode == "local-dev" and not is_loopback(s.host):
        raise SettingsError(
            f"{env_name('auth_mode')}=local-dev only binds to a loopback address, not "
            f"{env_name('host')}={s.host!r}: use {env_name('auth_mode')}=api-key")
    if s.distiller == "llm":
        missing = [env_name(n) for n in ("llm_model",) if not getattr(s, n)]
        if s.llm_provider == "openai" and not s.llm_base_url:
            missing.append(env_name("llm_base_url"))
        if missing:
            raise SettingsError(f"{env_name('distiller')}=llm needs {' and '.join(missing)}")
        if s.llm_base_url and not s.llm_base_url.startswith(("http://", "https://")):
            raise SettingsError(f"{env_name('llm_base_url')}={s.llm_base_url!r}: expected an http(s) URL")
