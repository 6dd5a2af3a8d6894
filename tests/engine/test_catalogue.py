"""The text catalogue: every key the code uses exists in both languages with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from suarawarga.bot.messages import Attachment
from suarawarga.bot.texts import LANGUAGES, Catalogue
from suarawarga.complaints.model import ComplaintStatus, EventKind, IdentityMode
from suarawarga.errors import ConfigError

SRC = Path(__file__).resolve().parents[2] / "src" / "suarawarga"
# A string literal that looks like a catalogue key, as passed to reply()/Choice()/UserInputError()/text().
KEY_LITERAL = re.compile(
    r"""["']((?:menu|cancel|help|language|error|input|privacy|complaint|status|history|survey|ikm|staff|data)\.[a-z0-9_.]+)["']"""
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """Return the built-in catalogue."""
    return Catalogue.load()


def test_every_literal_key_in_the_code_exists(catalogue: Catalogue) -> None:
    """Each key-shaped string in the flows, commands and engine is in the catalogue."""
    used = {
        match
        for path in SRC.rglob("*.py")
        for match in KEY_LITERAL.findall(path.read_text(encoding="utf-8"))
        if not match.endswith(".")
    }
    assert used, "the scan found no keys at all"
    assert sorted(k for k in used if not catalogue.has(k)) == []


def test_keys_built_from_enums_exist(catalogue: Catalogue) -> None:
    """Status labels, history lines and identity summaries exist for every enum value."""
    expected = (
        {f"status.label.{s}" for s in ComplaintStatus}
        | {f"history.{k}" for k in EventKind}
        | {f"complaint.summary.who.{m}" for m in IdentityMode}
        | {f"console.file.{a}" for a in Attachment}
    )
    assert sorted(k for k in expected if not catalogue.has(k)) == []


def test_every_text_has_both_languages_with_the_same_placeholders(catalogue: Catalogue) -> None:
    """No text is missing a language, and id and en use the same {placeholders}."""
    problems = []
    for key in sorted(catalogue.keys()):
        try:
            texts = {lang: catalogue.raw(key, lang) for lang in LANGUAGES}
        except KeyError:
            problems.append(f"{key}: missing")
            continue
        if any(not t.strip() for t in texts.values()):
            problems.append(f"{key}: empty")
        if catalogue.placeholders(key, "id") != catalogue.placeholders(key, "en"):
            problems.append(f"{key}: placeholders differ")
    assert problems == []


def test_override_file_replaces_texts(tmp_path: Path) -> None:
    """A city's own texts file overrides the built-in wording."""
    override = tmp_path / "texts.yaml"
    override.write_text('menu.intro:\n  id: "Mau apa, Sanak?"\n', encoding="utf-8")
    catalogue = Catalogue.load(override)
    assert catalogue.render("menu.intro", "id") == "Mau apa, Sanak?"
    assert catalogue.render("menu.intro", "en") == "What would you like to do?"


def test_a_malformed_override_is_refused(tmp_path: Path) -> None:
    """An override that is not key -> {language: text} fails loudly at start-up."""
    override = tmp_path / "texts.yaml"
    override.write_text("menu.intro: just a string\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"menu\.intro"):
        Catalogue.load(override)


def test_missing_parameter_names_the_text(catalogue: Catalogue) -> None:
    """Rendering without a needed parameter says which text and which parameter."""
    with pytest.raises(KeyError, match=r"complaint\.filed"):
        catalogue.render("complaint.filed", "id", {"code": "PDG-234567"})


def test_parameters_are_escaped_but_templates_are_not(catalogue: Catalogue) -> None:
    """The channel's escape function applies to values only."""
    text = catalogue.render("label", "id", {"label": "<b>x</b>"}, escape=lambda s: s.replace("<", "&lt;"))
    assert text == "&lt;b>x&lt;/b>"
