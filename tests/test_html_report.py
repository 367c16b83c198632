"""`report --html`: one self-contained page per scale, with tables per configuration, figures embedded, statements,
explanations and provenance, every verdict coloured by what it did to the lesson's claim; rendered in headless
Chromium where one is installed, and its screenshot kept beside the page."""

import re
import subprocess
from html.parser import HTMLParser

import pytest
from test_row import make_row

from tl_claims.results import assembly, html, rowfile
from tl_claims.stats.intervals import Summary
from tl_claims.stats.rules import Band, Collapse, Exact, NonInferiority, Risk, Superiority, Verdict

CHROMIUM = html.browser()
NO_CHROMIUM = f"no headless Chromium on PATH ({', '.join(html.BROWSERS)}): `apt-get install chromium` brings one"
WORDS = {"CONFIRMED", "REFUTED", "NON-INFERIOR", "INFERIOR", "INSIDE BAND", "OUTSIDE BAND", "FAILS OFTEN",
         "RARELY FAILS", "INCONCLUSIVE"}  # fmt: skip


class Outline(HTMLParser):
    """The tags of a page, the sources it loads, its headings, and every table cell's attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []
        self.headings: list[str] = []
        self.cells: list[dict] = []
        self.images: list[dict] = []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [value for name, value in attrs if name in ("src", "href")]
        self._in_heading = tag in ("h1", "h2")
        if tag == "td":
            self.cells.append({**dict(attrs), "text": ""})
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        self._in_heading = False

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data)
        if self.cells and self.tags[-1] == "td":
            self.cells[-1]["text"] += data


def outline(text: str) -> Outline:
    parsed = Outline()
    parsed.feed(text)
    return parsed


@pytest.fixture
def page(tmp_path):
    rowfile.append_row(
        tmp_path, make_row(claim="a", statement="A <helps>", explanation="CONFIRMED because", node_id="t::a")
    )
    rowfile.append_row(tmp_path, make_row(claim="a", image_size=48, git_dirty=False))
    rowfile.append_skip(tmp_path, {"claim": "z", "variant": "v", "scale": "smoke", "run_id": "9", "reason": "no GPU"})
    return html.write(tmp_path / "smoke", assembly.assemble(tmp_path, "smoke"))


def test_the_page_is_self_contained_with_a_table_per_configuration(page):
    parsed = outline(page.read_text())
    assert parsed.tags.count("table") == 2
    assert "smoke · b · d · 48 px · 4 per class · 3 seeds" in parsed.headings
    assert parsed.sources and all(source.startswith("data:image/png;base64,") for source in parsed.sources)
    assert "link" not in parsed.tags and "script" not in parsed.tags


def test_the_page_has_statements_explanations_provenance_and_skips(page):
    text = page.read_text()
    assert "A &lt;helps&gt;" in text and "CONFIRMED because" in text  # escaped, never raw markup
    assert "<dt>node_id</dt><dd>t::a</dd>" in text and "<dt>git_dirty</dt><dd>False</dd>" in text
    assert "<code>z</code> [v]: no GPU" in text


# --- verdict colours --------------------------------------------------------------------------------------------------
def summary(delta: float, se: float, baseline: tuple = (0.5,) * 3, treatment: tuple = (0.6,) * 3) -> Summary:
    return Summary(0.5, 0.5 + delta, delta, se, 30.0, 0.95, "test", len(baseline), 100, baseline, treatment, 0.01)


def verdicts() -> list[Verdict]:
    """Every verdict the rules give on a spread of measurements, judged by the rules themselves (so a word a rule
    learns later is coloured or this test fails), one per word × confirms × decided."""
    rules = [Superiority(0.02), NonInferiority(0.01), Band(0.005, 0.02), Exact(0.0), Risk(Collapse(0.2), 0.1),
             Risk(Collapse(0.2), 0.1, often=False)]  # fmt: skip
    measured = [
        summary(0.10, 0.002),  # far above every bound
        summary(-0.10, 0.002, treatment=(0.4,) * 3),  # far below
        summary(0.0125, 0.001),  # inside the band
        summary(0.02, 0.02, treatment=(0.55, 0.45, 0.6)),  # straddles every bound
        summary(-0.5, 0.01, baseline=(0.8,) * 40, treatment=(0.3,) * 40),  # every one of 40 seeds collapsed
        summary(0.0, 0.01, baseline=(0.8,) * 40, treatment=(0.8,) * 40),  # none of 40 collapsed
    ]
    found = {(v.word, v.confirms, v.decided): v for rule in rules for v in map(rule.judge, measured)}
    return list(found.values())


def group(verdict: Verdict) -> str:
    """The README's three groups ("Reading a verdict"), from the verdict itself."""
    return "confirms" if verdict.confirms else "contradicts" if verdict.decided else "undecided"


def verdict_rows(results_dir) -> list[Verdict]:
    """A results folder with one row per verdict of `verdicts()`, plus two primary confirmations that Holm's
    adjustment turns INCONCLUSIVE (p 0.02 each, two in the family)."""
    found = verdicts()
    for index, verdict in enumerate(found):
        fields = dict(verdict=verdict.word, confirms=verdict.confirms, decided=verdict.decided, rule=verdict.rule)
        fields |= dict(p_value=verdict.p_value, estimate=verdict.estimate, primary=False)
        rowfile.append_row(results_dir, make_row(claim=f"c{index:02d}", variant=verdict.word.lower(), **fields))
    for claim in ("p1", "p2"):
        fields = dict(confirms=True, decided=True, rule="superiority Δ > +0.0 pp", p_value=0.02, primary=True)
        rowfile.append_row(results_dir, make_row(claim=claim, verdict="CONFIRMED", **fields))
    return found


def test_the_rules_give_every_word_and_a_risk_word_both_ways():
    found = verdicts()
    assert {verdict.word for verdict in found} >= WORDS
    assert {group(v) for v in found if v.word == "FAILS OFTEN"} == {"confirms", "contradicts"}


@pytest.mark.parametrize(
    ("word", "confirms", "classes"),
    [
        ("FAILS OFTEN", True, "verdict verdict-fails-often group-confirms"),
        ("FAILS OFTEN", False, "verdict verdict-fails-often group-contradicts"),
        ("NON-INFERIOR", True, "verdict verdict-non-inferior group-confirms"),
        ("INCONCLUSIVE", False, "verdict verdict-inconclusive group-undecided"),
        ('x" onclick="y <b>', False, "verdict verdict-x-onclick-y-b group-contradicts"),  # cannot leave the class
    ],
)
def test_a_verdict_cell_gets_a_safe_class_of_its_word_and_one_of_its_group(word, confirms, classes):
    assert html.verdict_classes(word, {"confirms": confirms}) == classes


def test_every_verdict_word_gets_its_groups_colour(tmp_path):
    found = verdict_rows(tmp_path)
    page = html.write(tmp_path / "smoke", assembly.assemble(tmp_path, "smoke"))
    cells = [cell for cell in outline(page.read_text()).cells if "verdict" in cell.get("class", "").split()]
    assert dict(re.findall(r"td\.group-(\w+) \{ color: (#\w+); \}", html.STYLE)) == html.GROUP_COLOURS
    shown = {}
    for cell in cells:
        classes = cell["class"].split()
        assert len([name for name in classes if name.startswith("group-")]) == 1
        assert f"verdict-{cell['text'].lower().replace(' ', '-')}" in classes
        shown.setdefault(cell["text"], set()).add(next(name[6:] for name in classes if name.startswith("group-")))
    assert set(shown) == {verdict.word for verdict in found}
    assert shown["INCONCLUSIVE"] == {"undecided"} and shown["FAILS OFTEN"] == {"confirms", "contradicts"}
    assert len(cells) == 2 * (len(found) + 2)  # the verdict and adjusted cells of every row
    assert {group(verdict) for verdict in found} == set(html.GROUP_COLOURS)


# --- the page in a browser ----------------------------------------------------------------------------------------
PROBE = """<script>
window.addEventListener("load", () => {
  for (const cell of document.querySelectorAll("td.verdict")) cell.dataset.colour = getComputedStyle(cell).color;
  for (const img of document.images) img.dataset.decoded = img.complete && img.naturalWidth > 0 ? "yes" : "no";
  document.body.dataset.probed = "yes";
});
</script>"""


def rgb(colour: str) -> str:
    """`#1a7f37` as a browser's computed style writes it: `rgb(26, 127, 55)`."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def rendered_dom(page, chromium: str) -> str:
    """The DOM Chromium built from a copy of the page with PROBE added, which writes each verdict cell's computed
    colour and each figure's decoding into the DOM before it is dumped (report.html itself carries no script)."""
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", f"{PROBE}</body>"))
    done = subprocess.run(
        [*html.headless(chromium), "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_chromium_renders_the_tables_every_verdicts_colour_and_the_figures(tmp_path):
    found = verdict_rows(tmp_path)
    page = html.write(tmp_path / "smoke", assembly.assemble(tmp_path, "smoke"))
    dom = rendered_dom(page, CHROMIUM)
    assert 'data-probed="yes"' in dom  # the probe ran after the page had loaded
    parsed = outline(dom)
    assert parsed.tags.count("table") == 1 and parsed.tags.count("tr") == len(found) + 2 + 1
    colours = {rgb(colour): name for name, colour in html.GROUP_COLOURS.items()}
    cells = [cell for cell in parsed.cells if "verdict" in cell.get("class", "").split()]
    for cell in cells:
        group_class = next(name for name in cell["class"].split() if name.startswith("group-"))
        assert colours.get(cell["data-colour"]) == group_class[6:], cell
    assert {colours[cell["data-colour"]] for cell in cells} == set(html.GROUP_COLOURS)
    figures = [image for image in parsed.images if image["src"].startswith("data:image/png;base64,")]
    assert figures and all(image["data-decoded"] == "yes" for image in figures)


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_screenshot_is_kept_beside_the_report(tmp_path):
    verdict_rows(tmp_path)
    page = html.write(tmp_path / "smoke", assembly.assemble(tmp_path, "smoke"))
    shot = html.screenshot(page)
    assert shot == page.with_name("report.png")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000  # a rendered page, not a blank one


def test_no_screenshot_without_a_browser(page, monkeypatch):
    monkeypatch.setattr(html.shutil, "which", lambda name: None)
    assert html.browser() is None and html.screenshot(page) is None
    assert not page.with_name("report.png").exists()
