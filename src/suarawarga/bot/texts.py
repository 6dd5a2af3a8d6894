"""The text catalogue: every user-facing text, by key, in Indonesian and English.

Texts live in YAML files (`bot/catalogue/*.yaml`, key -> {id: ..., en: ...}) that staff can edit; a city
may also point SUARAWARGA_TEXTS_FILE at its own file, whose entries override the built-in ones.
Placeholders use `{name}`; parameter values are escaped by the channel, the template itself is trusted.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path

import yaml

from suarawarga.errors import ConfigError

LANGUAGES = ("id", "en")


class Catalogue:
    """Texts by key and language."""

    def __init__(self, entries: Mapping[str, Mapping[str, str]], default_language: str = "id") -> None:
        self._entries = {key: dict(value) for key, value in entries.items()}
        self.default_language = default_language

    @classmethod
    def load(cls, override: Path | None = None, default_language: str = "id") -> Catalogue:
        """Load the built-in catalogue files, then the optional override file on top."""
        entries: dict[str, dict[str, str]] = {}
        folder = resources.files("suarawarga.bot") / "catalogue"
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.name.endswith(".yaml"):
                _merge(entries, yaml.safe_load(item.read_text(encoding="utf-8")) or {}, item.name)
        if override is not None:
            _merge(entries, yaml.safe_load(override.read_text(encoding="utf-8")) or {}, str(override))
        return cls(entries, default_language)

    def keys(self) -> set[str]:
        """Return every key in the catalogue."""
        return set(self._entries)

    def has(self, key: str) -> bool:
        """Tell whether a key exists."""
        return key in self._entries

    def raw(self, key: str, language: str) -> str:
        """Return the unformatted template of a key in a language (falling back to the default language)."""
        entry = self._entries.get(key)
        if entry is None:
            raise KeyError(f"no text for key {key!r}")
        return entry.get(language) or entry[self.default_language]

    def render(
        self,
        key: str,
        language: str,
        params: Mapping[str, str] | None = None,
        escape: Callable[[str], str] | None = None,
    ) -> str:
        """Fill a text's placeholders with (escaped) parameters."""
        values = {k: (escape(str(v)) if escape else str(v)) for k, v in (params or {}).items()}
        return self.raw(key, language).format_map(_Strict(values, key))

    def placeholders(self, key: str, language: str) -> set[str]:
        """Return the placeholder names a text uses."""
        return {name for _, name, _, _ in string.Formatter().parse(self.raw(key, language)) if name}


class _Strict(dict[str, str]):
    """A format mapping that names the text whose parameter is missing."""

    def __init__(self, values: Mapping[str, str], key: str) -> None:
        super().__init__(values)
        self._key = key

    def __missing__(self, name: str) -> str:
        raise KeyError(f"text {self._key!r} needs parameter {name!r}")


def _merge(into: dict[str, dict[str, str]], loaded: object, source: str) -> None:
    if not isinstance(loaded, dict):
        raise ConfigError(f"{source}: a catalogue file is a mapping of key -> {{id: ..., en: ...}}")
    for key, value in loaded.items():
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{source}: {key} must map languages to strings")
        into.setdefault(str(key), {}).update({str(k): v for k, v in value.items()})
