"""The message catalogues: English and Spanish have the same keys, every template renders in both, and a Spanish
message never falls back to English mid-sentence: not one English word of running text, not one English term that
the glossary (docs/es/glosario.md) translates, with every field filled as the code fills it. The same for the Spanish
contract, docs/es/ and the notebook's Spanish parts; English texts use the glossary's English terms. And how the
language is chosen (--lang, env, ini)."""

import itertools
import json
import re
import string
from functools import partial
from pathlib import Path

import pytest

from tl_claims.core.paths import REPO_ROOT
from tl_claims.resources import DOCS, read_text
from tl_claims.teaching import messages
from tl_claims.teaching.plugin import LANG_INI, LANG_VARIABLE, lang_of
from tl_claims.teaching.student import describe, location

TABLES = {"LABELS": messages.LABELS, "TITLES": messages.TITLES, "CHECKS": messages.CHECKS, "TEXTS": messages.TEXTS}
# Words of running English text that Spanish sentences never contain (code and names excepted, see `prose`).
ENGLISH_WORDS = {"the", "and", "with", "your", "must", "should", "does", "which", "when", "into", "this", "that", "its"}
GLOSSARY = REPO_ROOT / "docs" / "es" / "glosario.md"
# The template fields that the code fills from other texts: each is tried with every text it can take.
TEXT_FIELDS = {
    "hint": ("hint_raw", "hint_divided", "hint_double", ""),
    "expects": ("expects_0_255", "expects_scaled"),
    "fix_hint": ("fix_0_255", "fix_scaled"),
    "call_note": ("call_note", ""),
    "where": ("where_base_input", "where_output"),
}


def glossary_rows() -> list[list[str]]:
    """The rows of the glossary's first table (terms that are translated): English, Spanish, English forms to avoid."""
    section = GLOSSARY.read_text(encoding="utf-8").split("## Se traducen")[1].split("\n## ")[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()]
    return [row for row in rows if len(row) == 3 and row[0] not in ("inglés", "---")]


def term_pattern(terms: list[str]) -> re.Pattern:
    """Any of `terms`, singular or plural (accuracy, accuracies), as whole words, in any case."""
    forms = [
        re.escape(term[:-1]) + "(?:y|ies)" if term.endswith("y") else re.escape(term) + "(?:s|es)?" for term in terms
    ]
    return re.compile(rf"(?<![\w-])(?:{'|'.join(sorted(forms, key=len, reverse=True))})(?![\w-])", re.IGNORECASE)


TRANSLATED = term_pattern([row[0] for row in glossary_rows()])  # never in Spanish prose
AVOIDED = term_pattern([row[2].split(" (")[0] for row in glossary_rows() if row[2]])  # never in English prose


def fields_of(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def dummy_values(template: str) -> dict[str, object]:
    return dict.fromkeys(fields_of(template), 1.5)


def sample_values(lang: str) -> dict[str, object]:
    """Every field as the code fills it, in `lang` (numbers where the code gives a number)."""
    text = messages.text
    return {
        "base": "tiny_base",
        "backbone": "mobilenet_v2",
        "expression": "(x - 127.5) / 127.5",
        "layer": "keras.layers.Rescaling(1 / 127.5, offset=-127.5 / 127.5)",
        "call": "model(images, training=False)",
        "example": "tiny_base/bn/moving_mean",
        "needs": text(lang, "needs_BACKBONE"),
        "got": describe((1, None), lang),
        "kind": "int",
        "module": "ana",
        "name": "build_model",
        "path": "clase/ana.ipynb",
        "error": "ValueError: x" + location(Path("ana.py"), 3, lang),
        "suggestion": text(lang, "contract_suggestion", found="build_dataset", name="build_datasets"),
        "signature": "(config, extra)",
        "value": "resnet",
        "choices": "efficientnet_lite0, mobilenet_v2",
        "check": "recompiled_after_unfreezing",
        "checks": "recompiled_after_unfreezing, finetune_lr_10x_lower",
        "scale": "smoke",
        "output": text(lang, "last_output", tail="hola"),
        "tail": "hola",
        "verdict": text(lang, "homework_criterion_missed"),
        "file": "ana.ipynb",
        "lines": text(lang, "notebook_skipped_line", cell=2, line=1, text="%pip install tl-claims"),
        "text": "%pip install tl-claims",
        "version": 3,
    }


def filled(lang: str, template: str) -> dict[str, object]:
    values = sample_values(lang)
    return {name: values.get(name, 0.5) for name in fields_of(template)}


def every_message(lang: str) -> list[str]:
    """Every text and check message in `lang`, filled as the code fills them (every step and text field choice)."""
    rendered = [messages.text(lang, key, **filled(lang, template)) for key, template in messages.TEXTS[lang].items()]
    steps = [key for key in messages.TEXTS[lang] if key.startswith("step_")]
    for step in steps:
        where = messages.text(lang, step, check="stage1_trains_only_head", scale="cpu")
        rendered.append(messages.text(lang, "child_crashed", step=where, status=1, output=""))
    for check, case in messages.CHECKS[lang]:
        message = messages.CHECKS[lang][(check, case)]
        template = " ".join(getattr(message, part) for part in ("seen", "rule", "why", "fix"))
        chosen = sorted(fields_of(template) & set(TEXT_FIELDS))
        for keys in itertools.product(*(TEXT_FIELDS[field] for field in chosen)):
            values = {**filled(lang, template), **filled(lang, messages.TEXTS[lang]["fix_scaled"])}
            rendered.append(messages.render(lang, check, case, values, dict(zip(chosen, keys))))
    return rendered


def prose(text: str) -> str:
    """`text` without code spans, identifiers, and references: what a reader reads as sentences."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)  # code blocks
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"\b\w+(?:\.\w+|\(\S*\))+", " ", text)  # keras.layers.X, Adam(1e-5), base(x, ...
    text = re.sub(r"\b\w*_\w*\b", " ", text)  # snake_case names
    text = re.sub(r"\([a-z]+(?:, [a-z]+)+\)", " ", text)  # tuples of names: (train, val), (model, base)
    text = re.sub(r"(?<![\w-])--?[\w-]+", " ", text)  # options
    text = re.sub(r"\b[A-Z][A-Z0-9]+\b", " ", text)  # constants and acronyms: BACKBONE, CPU
    return text.replace(messages.BN_FIX_CODE, " ")


def english_words(text: str) -> set[str]:
    plain = prose(text)
    words = set(re.findall(r"[a-z]+", plain.lower())) & ENGLISH_WORDS
    return words | {match.group(0).lower() for match in TRANSLATED.finditer(plain)}


def avoided_forms(text: str) -> set[str]:
    return {match.group(0) for match in AVOIDED.finditer(prose(text))}


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
        messages.text(lang, key, **dummy_values(template))


def test_no_spanish_message_holds_an_english_word_or_an_untranslated_term():
    found = {text: english_words(text) for text in every_message("es")}
    assert not {text: words for text, words in found.items() if words}


def test_english_messages_use_the_glossarys_english_terms():
    found = {text: avoided_forms(text) for text in every_message("en")}
    assert not {text: forms for text, forms in found.items() if forms}


def test_the_spanish_titles_labels_and_pitfall_are_spanish():
    for text in [*messages.TITLES["es"].values(), *messages.LABELS["es"].values(), messages.KERAS3_BN_PITFALL["es"]]:
        assert not english_words(text), text


def notebook_spanish(path: Path) -> str:
    """The notebook's Spanish paragraphs: from each markdown cell's **ES** to its **EN**."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return "\n".join(re.findall(r"\*\*ES\*\*(.*?)(?=\*\*EN\*\*|\Z)", text, flags=re.DOTALL))


SPANISH_DOCUMENTS = {
    "the Spanish contract": lambda: read_text(DOCS["contract"]["es"]),
    **{
        f"docs/es/{path.name}": partial(path.read_text, encoding="utf-8")
        for path in sorted((REPO_ROOT / "docs" / "es").glob("*.md"))
        if path != GLOSSARY  # it names the English terms it translates
    },
    "the notebook": lambda: notebook_spanish(REPO_ROOT / "examples" / "colab" / "student_colab.ipynb"),
}


@pytest.mark.parametrize("document", SPANISH_DOCUMENTS)
def test_the_spanish_documents_use_the_glossary(document):
    """Line by line, so that a failure names the line."""
    lines = re.sub(r"```.*?```", " ", SPANISH_DOCUMENTS[document](), flags=re.DOTALL).splitlines()
    found = {line: english_words(line) for line in lines}
    assert not {line: words for line, words in found.items() if words}


ENGLISH_DOCUMENTS = {
    "the English contract": lambda: read_text(DOCS["contract"]["en"]),
    **{f"docs/{name}": partial((REPO_ROOT / "docs" / name).read_text, encoding="utf-8") for name in
       ("students.md", "teachers.md")},
}  # fmt: skip


@pytest.mark.parametrize("document", ENGLISH_DOCUMENTS)
def test_the_english_documents_use_the_glossarys_english_terms(document):
    lines = re.sub(r"```.*?```", " ", ENGLISH_DOCUMENTS[document](), flags=re.DOTALL).splitlines()
    found = {line: avoided_forms(line) for line in lines}
    assert not {line: forms for line, forms in found.items() if forms}


def test_the_detectors_detect():
    assert english_words("la base no cambia: the weights must move") == {"the", "must"}
    assert english_words("los checks usan un learning rate bajo") == {"checks", "learning rate"}
    assert english_words("los chequeos usan `learning_rate` y --student") == set()
    assert avoided_forms("the warmup stage") == {"warmup"}


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
