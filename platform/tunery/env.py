"""Small readers for settings that come from environment variables."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, *, required: bool, var_dir: Path) -> str:
    """A secret from the environment; on the embedded default, one generated once and kept
    in var/ so that sessions and API keys survive restarts."""
    value = os.environ.get(name)
    if value:
        return value
    if required:
        raise ImproperlyConfigured(f"{name} must be set in production")
    path = var_dir / "secrets" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_suffix(f".{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)  # atomic: the first process to start wins, others read its secret
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
