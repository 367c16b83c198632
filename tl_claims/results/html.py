"""`python -m tl_claims report --html`: one self-contained page per scale (`results/<scale>/report.html`).

The page needs nothing beside it: the style is inline and the figures are embedded as base64 PNG, so it can be
mailed, attached to a CI run or opened from a USB stick. It holds the tables (one per configuration), the figures,
every row's statement and explanation, the skipped tests and each row's provenance.

Where a Chromium is installed, `screenshot` renders the page headless into `report.png` beside it: a picture of what a
reader sees, for a CI artefact or a quick look. Nothing requires it.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import pandas as pd

from tl_claims.results import rowfile, tables
from tl_claims.stats.rules import INCONCLUSIVE, UNSTABLE

# What a verdict did to the lesson's claim (README, "Reading a verdict") -> the colour STYLE gives its cells.
GROUP_COLOURS = {"confirms": "#1a7f37", "contradicts": "#b42318", "undecided": "#b54708"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
article { border-top: 1px solid #ddd; padding: 0.5em 0; } dl { display: grid; grid-template-columns: max-content 1fr;
gap: 0.1em 1em; font-size: 0.85em; } dt { font-weight: bold; } code { font-size: 0.95em; }
""" + "".join(f"td.group-{name} {{ color: {colour}; }}\n" for name, colour in GROUP_COLOURS.items())
FIGURES = {  # file under figures/ -> caption
    "deltas.png": "Δ and its 95 % interval per claim variant; threshold and claim type marked.",
    "learning_curves.png": "Feature extraction against fine-tuning by training images per class.",
    "batchnorm.png": "Stage-2 accuracy and moving-statistics drift per BatchNorm policy.",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # the names Debian, Ubuntu and Google install
PROVENANCE = ("node_id", "run_id", "started_at", "finished_at", "tool_version", "claim_version", "git_commit",
              "git_dirty", "versions", "machine")  # fmt: skip


def write(scale_dir: Path, table: pd.DataFrame) -> Path:
    """Render the scale's assembled table (and its figures, already drawn) to `scale_dir/report.html`."""
    rows = table.to_dict("records")
    page = render(rows, table.attrs.get("skipped", []), Path(scale_dir) / "figures")
    return rowfile.write_atomic(Path(scale_dir) / "report.html", page)


def render(rows: list[dict], skipped: list[dict], figures_dir: Path) -> str:
    scale = escape(str(rows[0].get("scale", ""))) if rows else ""
    body = [f"<h1>tl-claims results, {scale} scale</h1>"]
    for group in tables.group_rows(rows).values():
        body.append(_table_section(group))
    body.append(_figures_section(figures_dir))
    body.append(_claims_section(rows))
    if skipped:
        items = "".join(
            f"<li><code>{escape(s['claim'])}</code> [{escape(s['variant'])}]: {escape(str(s.get('reason', '')))}</li>"
            for s in skipped
        )
        body.append(f'<section id="skipped"><h2>Skipped</h2><ul>{items}</ul></section>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>tl-claims results, {scale} scale</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _table_section(group: list[dict]) -> str:
    header = "".join(f"<th>{escape(name)}</th>" for name in tables.MARKDOWN_COLUMNS)
    lines = []
    for row in group:
        cells = tables.markdown_cells(row)
        tds = "".join(
            f'<td class="{verdict_classes(cell, row)}">{escape(cell)}</td>'
            if name in ("verdict", "adjusted") and cell
            else f"<td>{escape(cell)}</td>"
            for name, cell in zip(tables.MARKDOWN_COLUMNS, cells)
        )
        lines.append(f"<tr>{tds}</tr>")
    title = escape(tables.configuration_title(group))
    return (
        f'<section class="configuration"><h2>{title}</h2><table class="results"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></section>"
    )


def verdict_classes(word: str, row: dict) -> str:
    """`verdict verdict-fails-often group-confirms`: the word's own class (a CSS class cannot hold the space of
    `FAILS OFTEN`, so anything but letters and digits becomes a hyphen) and its group, which the style colours."""
    slug = re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-")
    return f"verdict verdict-{slug} group-{verdict_group(word, row)}"


def verdict_group(word: str, row: dict) -> str:
    """confirms / contradicts / undecided. Read from the row's `confirms`, not from the word alone: a risk claim's
    two words swap roles with its direction (RARELY FAILS confirms a claim that the failure is rare). The adjusted
    column holds the raw word or INCONCLUSIVE, so the raw verdict's `confirms` speaks for both."""
    if word in (INCONCLUSIVE, UNSTABLE):
        return "undecided"
    return "confirms" if row.get("confirms") else "contradicts"


def _figures_section(figures_dir: Path) -> str:
    parts = []
    for name, caption in FIGURES.items():
        path = Path(figures_dir) / name
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
                f"<figcaption>{escape(caption)}</figcaption></figure>"
            )
    return f'<section id="figures"><h2>Figures</h2>{"".join(parts)}</section>'


def _claims_section(rows: list[dict]) -> str:
    articles = []
    for row in rows:
        anchor = escape(f"{row['claim']}-{row['variant']}-{row.get('image_size')}-{row.get('seeds')}")
        facts = "".join(f"<dt>{escape(key)}</dt><dd>{_value(row.get(key))}</dd>" for key in PROVENANCE)
        articles.append(
            f'<article id="{anchor}"><h3>{escape(row["claim"])} [{escape(row["variant"])}]</h3>'
            f'<p class="statement">{escape(str(row.get("statement", "")))}'
            f" <em>({escape(str(row.get('lesson_section', '')))})</em></p>"
            f'<p class="explanation">{escape(str(row.get("explanation", "")))}</p>'
            f'<dl class="provenance">{facts}</dl></article>'
        )
    return f'<section id="claims"><h2>Statements, explanations and provenance</h2>{"".join(articles)}</section>'


def _value(value: object) -> str:
    if isinstance(value, dict):
        return escape(", ".join(f"{key} {item}" for key, item in value.items())) or "—"
    return escape(str(value)) if value not in (None, "") else "—"


def browser() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def screenshot(page: Path, width: int = 1280, height: int = 2400) -> Path | None:
    """`report.png` beside `page`, rendered by headless Chromium; None where none is installed. A browser that fails
    raises (subprocess.CalledProcessError, TimeoutExpired): the caller decides whether that matters."""
    chromium = browser()
    if chromium is None:
        return None
    shot = Path(page).with_name("report.png")
    subprocess.run(
        [*headless(chromium), f"--screenshot={shot}", f"--window-size={width},{height}", Path(page).resolve().as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return shot


def headless(chromium: str) -> list[str]:
    """A headless Chromium command line that runs as root and in containers (no sandbox, no GPU), hiding
    scrollbars so the picture is the page alone."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio"]
