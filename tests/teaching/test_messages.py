"""The message catalogues: English and Spanish have the same keys, every template renders in both, and a Spanish
message never falls back to English mid-sentence. And how the language is chosen (--lang, env, ini)."""

import re
import string

import pytest

from tl_claims.teaching import messages
from tl_claims.teaching.plugin import LANG_INI, LANG_VARIABLE, lang_of

TABLES = {"LABELS": messages.LABELS, "TITLES": messages.TITLES, "CHECKS": messages.CHECKS, "TEXTS": messages.TEXTS}
# Words of running English text that Spanish sentences never contain (code and names excepted, see `prose`).
ENGLISH_WORDS = {"the", "and", "with", "your", "must", "should", "does", "which", "when", "into", "this", "that", "its"}


def fields_of(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def dummy_values(template: str) -> dict[str, object]:
    return dict.fromkeys(fields_of(template), 1.5)


def prose(text: str) -> str:
    """`text` without code spans, identifiers, and references: what a reader reads as sentences."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\b\w+(?:\.\w+|\(\S*\))+", " ", text)  # keras.layers.X, Adam(1e-5), base(x, ...
    text = re.sub(r"\b\w*_\w*\b", " ", text)  # snake_case names
    return text.replace(messages.BN_FIX_CODE, " ")


def english_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", prose(text).lower())) & ENGLISH_WORDS


@pytest.mark.parametrize("table", TABLES)
def test_both_languages_have_the_same_keys(table):
    english, spanish = TABLES[table]["en"], TABLES[table]["es"]
    assert set(english) == set(spanish)
    assert set(messages.KERAS3_BN_PITFALL) == set(messages.LANGUAGES)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_every_check_case_renders_with_the_same_fields_in_both_languages(lang):
    for (check, case), message in messages.CHECKS[lang].items():
        english = messages.CHECKS["en"][(check, case)]
        for part in ("seen", "rule", "why", "fix"):
            assert fields_of(getattr(message, part)) == fields_of(getattr(english, part)), (check, case, part)
        values = {name: 1.5 for part in ("seen", "rule", "why", "fix") for name in fields_of(getattr(message, part))}
        text_fields = dict.fromkeys(values.keys() & {"hint", "expects", "fix_hint", "call_note", "where"}, "")
        rendered = messages.render(lang, check, case, {**values, "pitfall": "", "code": ""}, text_fields)
        assert rendered.startswith(f"[{check}] {messages.TITLES[lang][check]}")
        if lang == "es":
            assert not english_words(rendered), (check, case, english_words(rendered))


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_every_text_renders_in_both_languages_with_the_same_fields(lang):
    for key, template in messages.TEXTS[lang].items():
        assert fields_of(template) == fields_of(messages.TEXTS["en"][key]), key
        rendered = messages.text(lang, key, **dummy_values(template))
        if lang == "es":
            assert not english_words(rendered), (key, english_words(rendered))


def test_the_spanish_titles_labels_and_pitfall_are_spanish():
    for text in [*messages.TITLES["es"].values(), *messages.LABELS["es"].values(), messages.KERAS3_BN_PITFALL["es"]]:
        assert not english_words(text), text


def test_the_english_detector_does_detect_english():
    assert english_words("la base no cambia: the weights must move") == {"the", "must"}


class StubConfig:
    def __init__(self, option: str | None, ini: str) -> None:
        self.option, self.ini = option, ini

    def getoption(self, name: str, default=None):
        return self.option

    def getini(self, name: str) -> str:
        assert name == LANG_INI
        return self.ini


@pytest.mark.parametrize(
    ("option", "env", "ini", "expected"),
    [
        (None, None, "", "en"),
        (None, None, "es", "es"),
        (None, "es", "en", "es"),
        ("en", "es", "es", "en"),
    ],
)
def test_the_language_comes_from_the_option_then_the_environment_then_the_ini_file(
    monkeypatch, option, env, ini, expected
):
    if env is None:
        monkeypatch.delenv(LANG_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(LANG_VARIABLE, env)
    assert lang_of(StubConfig(option, ini)) == expected


def test_an_unknown_language_from_the_environment_is_a_usage_error(monkeypatch):
    monkeypatch.setenv(LANG_VARIABLE, "fr")
    with pytest.raises(pytest.UsageError, match="'fr'"):
        lang_of(StubConfig(None, ""))
