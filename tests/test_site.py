"""The built website: offline, internally consistent, and complete.

These tests read the HTML that the `site` fixture builds; the browser test in
test_browser.py opens the same pages in Chromium.
"""

import html
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

import yaml
from pybtex.database import parse_file, parse_string

import xentref
from xentref import grad, symbolic
from helpers import ROOT, toc_documents

sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import claims_ledger  # noqa: E402
import labels  # noqa: E402


class Page(HTMLParser):
    """The tags, attributes and element ids of one HTML file."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.tags = []
        self.ids = set()
        self.feed(path.read_text())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])


def text_of(path):
    """The visible text of an HTML file, with runs of spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
    return re.sub(r"[ \t]+", " ", text)


def pages(site):
    return [p for p in sorted(site.rglob("*.html")) if "_static" not in p.relative_to(site).parts]


# Markdown link syntax, [text](target), as text: a link the build did not render.
UNRENDERED_LINK = re.compile(r"\[[^\[\]\n]+\]\([^()\s]+\)")


def prose_of(path):
    """The visible text of an HTML file outside code and preformatted blocks."""
    without_code = re.sub(r"<(pre|code)\b.*?</\1>", " ", path.read_text(), flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", without_code))


def test_unrendered_link_pattern_matches_markdown_links_only():
    assert UNRENDERED_LINK.search("at the top of the [repository](https://github.com/x/y), which")
    assert UNRENDERED_LINK.search("see [the intro](intro.md) and [a label](#conventions)")
    assert not UNRENDERED_LINK.search("the interval [0, 1] (closed), and [x] (y z)")


def test_every_toc_document_is_a_page(site):
    for name in toc_documents():
        assert (site / f"{name}.html").exists(), f"{name} was not built"


def test_nothing_is_loaded_from_the_network(site):
    loaded = {"script": "src", "link": "href", "img": "src"}
    remote = []
    for path in pages(site):
        for tag, attrs in Page(path).tags:
            url = attrs.get(loaded.get(tag, ""), "") or ""
            if re.match(r"(https?:)?//", url):
                remote.append(f"{path.relative_to(site)}: <{tag}> {url}")
    assert not remote, "\n".join(remote)


def test_math_is_rendered_by_a_local_mathjax(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    scripts = [a.get("src", "") for t, a in Page(site / "book" / "entropy.html").tags if t == "script"]
    assert "../_static/mathjax/tex-chtml.js" in scripts


def test_no_unrendered_markdown_link_reaches_a_page(site):
    found = [
        f"{path.relative_to(site)}: {match.group()}"
        for path in pages(site)
        for match in UNRENDERED_LINK.finditer(prose_of(path))
    ]
    assert not found, "Markdown link syntax shown as text:\n" + "\n".join(found)


def test_internal_links_and_anchors_resolve(site):
    parsed = {path: Page(path) for path in pages(site)}
    broken = []
    for path, page in parsed.items():
        for tag, attrs in page.tags:
            href = attrs.get("href") if tag == "a" else None
            if not href or re.match(r"[a-z]+:", href) or href.startswith("//"):
                continue
            parts = urlsplit(href)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else Page(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {href} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_api_page_documents_every_public_name(site):
    ids = Page(site / "book" / "api.html").ids
    expected = [
        f"module-xentref.{name}" if isinstance(getattr(xentref, name), ModuleType) else f"xentref.{name}"
        for name in xentref.__all__
    ]
    expected += [f"xentref.symbolic.{name}" for name in symbolic.__all__]
    expected += [f"xentref.grad.{name}" for name in grad.__all__]
    missing = [name for name in expected if name not in ids]
    assert not missing, f"missing from book/api.md: {missing}"


def test_every_chapter_offers_its_notebook(site):
    for name in toc_documents():
        if not (ROOT / f"{name}.ipynb").exists():
            continue
        links = [a.get("href", "") for t, a in Page(site / f"{name}.html").tags if t == "a"]
        download = f"../_sources/{name}.ipynb"
        assert download in links, f"{name} has no download link to its notebook"
        assert (site / "_sources" / f"{name}.ipynb").exists()


def test_sidebar_lists_the_documents_in_toc_order(site):
    page = Page(site / "book" / "cross_entropy.html")
    in_sidebar = []
    inside = False
    for tag, attrs in page.tags:
        if tag == "nav" and "bd-docs-nav" in attrs.get("class", ""):
            inside = True
        elif inside and tag == "a" and attrs.get("href") == "#":
            in_sidebar.append("cross_entropy")  # the page itself
        elif inside and tag == "a" and attrs.get("href", "").endswith(".html"):
            in_sidebar.append(Path(attrs["href"]).stem)
        elif inside and tag == "nav":
            break
    expected = [Path(name).name for name in toc_documents()]
    assert in_sidebar == expected


def test_search_and_repository_button(site):
    assert (site / "search.html").exists() and (site / "searchindex.js").exists()
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    links = [a.get("href") for t, a in Page(site / "book" / "intro.html").tags if t == "a"]
    assert citation["repository-code"] in links


def test_status_page_covers_every_chapter(site):
    text = (site / "book" / "status.html").read_text()
    for name in toc_documents():
        if (ROOT / f"{name}.ipynb").exists():
            assert f'href="{Path(name).name}.html"' in text, f"{name} is missing from the status page"
    assert re.search(r"The \d+ chapters decide \d+ claims of the", text)
    assert 'href="claims.html"' in text
    for name in xentref.__all__:
        if not isinstance(getattr(xentref, name), ModuleType):
            assert f'<span class="pre">{name}</span>' in text, f"{name} is missing from the status page"


def test_how_to_cite_page_gives_the_package_version(site):
    text = text_of(site / "book" / "how_to_cite.html")
    assert f"version = {{{xentref.__version__}}}" in text
    assert f"edition = {{version {xentref.__version__}}}" in text
    assert f"This page was built from version {xentref.__version__}." in text


def bibtex_blocks(path):
    """The BibTeX entries shown in the code blocks of a built page."""
    blocks = re.findall(r'<div class="highlight-bibtex[^"]*"><div class="highlight"><pre>(.*?)</pre>', path.read_text(), re.S)
    return parse_string("\n".join(html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks), "bibtex").entries


def unbraced(value):
    return value.replace("{", "").replace("}", "")


def test_how_to_cite_citation_file_and_references_agree(site):
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    title, version, url = citation["title"], str(citation["version"]), citation["repository-code"]
    year = str(citation["date-released"])[:4]
    shown = bibtex_blocks(site / "book" / "how_to_cite.html")
    listed = parse_file(str(ROOT / "references.bib")).entries["xentref"]

    book = shown["xentref"]
    assert [unbraced(book.fields["title"]), book.fields["version"], book.fields["year"], book.fields["url"]] == [
        title, version, year, url
    ]
    assert [unbraced(listed.fields["title"]), listed.fields["version"], listed.fields["year"], listed.fields["url"]] == [
        title, version, year, url
    ]
    chapter = shown["xentref-cross-entropy"]
    assert unbraced(chapter.fields["booktitle"]) == title
    assert chapter.fields["edition"] == f"version {version}"
    assert (chapter.fields["year"], chapter.fields["url"]) == (year, url)
    assert xentref.__version__ == version


def test_cited_addresses_need_no_release_tag(site):
    # No tag is published, so an address inside one (".../blob/v0.1.0/...") would not resolve.
    text = text_of(site / "book" / "how_to_cite.html")
    assert "/blob/" not in text and "/tree/" not in text


def test_references_list_the_articles_the_project_started_from(site):
    text = text_of(site / "book" / "references.html")
    for title in ["What is cross-entropy loss in machine learning?", "Untitled article on cross-entropy loss", "交叉熵损失"]:
        assert title in text, f"{title} is not on the references page"


def test_published_labels_are_all_still_there(site):
    # A citation names a label; labels must outlive versions, as DLMF's equation numbers do.
    committed = labels.read(ROOT / "book" / "labels.txt")
    built = labels.read(site / "labels.txt")
    assert len(built) > 50, "the build lists too few labels: is published_labels running?"
    problems = labels.compare(committed, built)
    assert not problems, "\n".join(problems) + "\n" + labels.HOW_TO_UPDATE


def test_claims_page_links_every_claim_to_its_cell(site):
    text = (site / "book" / "claims.html").read_text()
    for claim in claims_ledger.load_ledger(ROOT)["claims"]:
        assert f'<span class="pre">{claim["id"]}</span>' in text, f"{claim['id']} is missing from the ledger page"
        assert f'#{claim["cell"]}"' in text, f"{claim['id']} has no link to its cell"
