"""`report --html`: one self-contained page per scale, with tables per configuration, figures embedded, statements,
explanations and provenance; rendered in headless Chromium where one is installed."""

import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from test_row import make_row

from harness.results import assembly, html, rowfile


class Outline(HTMLParser):
    """The tags of a page, the sources it loads and its headings."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [value for name, value in attrs if name in ("src", "href")]
        self._in_heading = tag in ("h1", "h2")

    def handle_endtag(self, tag):
        self._in_heading = False

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data)


@pytest.fixture
def page(tmp_path):
    rowfile.append_row(
        tmp_path, make_row(claim="a", statement="A <helps>", explanation="CONFIRMED because", node_id="t::a")
    )
    rowfile.append_row(tmp_path, make_row(claim="a", image_size=48, git_dirty=False))
    rowfile.append_skip(tmp_path, {"claim": "z", "variant": "v", "scale": "smoke", "run_id": "9", "reason": "no GPU"})
    return html.write(tmp_path / "smoke", assembly.assemble(tmp_path, "smoke"))


def test_the_page_is_self_contained_with_a_table_per_configuration(page):
    outline = Outline()
    outline.feed(page.read_text())
    assert outline.tags.count("table") == 2
    assert "smoke · b · d · 48 px · 4 per class · 3 seeds" in outline.headings
    assert outline.sources and all(source.startswith("data:image/png;base64,") for source in outline.sources)
    assert "link" not in outline.tags and "script" not in outline.tags


def test_the_page_has_statements_explanations_provenance_and_skips(page):
    text = page.read_text()
    assert "A &lt;helps&gt;" in text and "CONFIRMED because" in text  # escaped, never raw markup
    assert "<dt>node_id</dt><dd>t::a</dd>" in text and "<dt>git_dirty</dt><dd>False</dd>" in text
    assert "<code>z</code> [v]: no GPU" in text


CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None
)


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium here (chromium, chromium-browser, google-chrome)")
def test_the_page_renders_in_headless_chromium(page, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1280,2000",
         page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
