"""The claims ledger: book/claims.yml, with a link to the cell that decides each claim.

A deciding cell is a code cell of a chapter tagged ``claim-<name>`` in its
Markdown source; jupytext keeps the tag in the notebook's cell metadata, where
this extension reads it. Each such cell becomes a link target named after its
tag, so ``{ref}`` reaches it like any label.

Two directives render the ledger page:

- ``claims-summary``: for each source, how many of its claims are verified,
  refuted or qualified;
- ``claims-ledger`` with a source key as argument: one row per claim of that
  source, with the claim in our words, the quotation, the verdict, the
  finding and a link to the deciding cell.

Whatever :func:`problems` finds (a claim whose cell is missing, unexecuted or
failed, a tag that decides nothing, a part of a seed article left without
claims) is a warning, so the strict build fails; tests/test_claims.py checks
the same list.
"""

import json
import re
from collections import Counter
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

LEDGER = Path("book") / "claims.yml"
VERDICTS = ("verified", "refuted", "qualified")
TAG = "claim-"
FIELDS = ("id", "source", "part", "claim", "verdict", "finding", "cell")


# Reading --------------------------------------------------------------------


def load_ledger(root):
    return yaml.safe_load((Path(root) / LEDGER).read_text())


def notebook_title(notebook):
    for cell in notebook["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if cell["cell_type"] == "markdown" and line.startswith("# "):
                return line[2:].strip()
    return ""


def claim_cells(notebook_paths):
    """``{tag: [cell, ...]}`` for the code cells tagged ``claim-*`` in the stored notebooks.

    Each cell is a dict: ``document`` (``book/<name>``), ``title`` (the
    chapter's), ``number`` (its execution count, None if never executed) and
    ``errors`` (how many error outputs it stored).
    """
    cells = {}
    for path in notebook_paths:
        notebook = json.loads(Path(path).read_text())
        title = notebook_title(notebook)
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            for tag in cell.get("metadata", {}).get("tags", []):
                if tag.startswith(TAG):
                    cells.setdefault(tag, []).append({
                        "document": f"book/{Path(path).stem}",
                        "title": title,
                        "number": cell.get("execution_count"),
                        "errors": sum(o["output_type"] == "error" for o in cell.get("outputs", [])),
                    })
    return cells


def seed_keys(bibliography):
    """The keys of the seed articles (``seed-*``) in a BibTeX file."""
    return re.findall(r"@\w+\{(seed-[^,\s]+),", Path(bibliography).read_text())


# Checking -------------------------------------------------------------------


def problems(ledger, cells, seeds=()):
    """Every way the ledger and the stored chapters fail to back each other, as sentences."""
    found = []
    if tuple(ledger.get("verdicts", {})) != VERDICTS:
        found.append(f"claims.yml must define the verdicts {', '.join(VERDICTS)}, in that order")
    sources = ledger.get("sources", {})
    claims = ledger.get("claims", [])
    ids = Counter(claim.get("id") for claim in claims)
    found += [f"claim id {name!r} is used {count} times" for name, count in ids.items() if count > 1]
    used_parts = {(claim.get("source"), claim.get("part")) for claim in claims}
    for key, source in sources.items():
        for part in source.get("parts", []):
            has_claims = (key, part["name"]) in used_parts
            if not has_claims and not part.get("no_claims"):
                found.append(f"{key}: part {part['name']!r} has no claims and no reason for having none")
            if has_claims and part.get("no_claims"):
                found.append(f"{key}: part {part['name']!r} says it has no claims, but has some")
    for key in seeds:
        if not any(claim.get("source") == key for claim in claims):
            found.append(f"seed article {key} (references.bib) has no claims in claims.yml")
    used_tags = set()
    for claim in claims:
        name = claim.get("id", "?")
        missing = [field for field in FIELDS if not claim.get(field)]
        if missing:
            found.append(f"claim {name}: missing {', '.join(missing)}")
            continue
        source = sources.get(claim["source"])
        if source is None:
            found.append(f"claim {name}: unknown source {claim['source']!r}")
        elif claim["part"] not in [part["name"] for part in source.get("parts", [])]:
            found.append(f"claim {name}: {claim['source']} has no part {claim['part']!r}")
        if claim["source"] != "book" and not claim.get("quote"):
            found.append(f"claim {name}: a seed article's claim needs a short quotation")
        language = claim.get("language", source.get("language", "en") if source else "en")
        if language != "en" and not claim.get("translation"):
            found.append(f"claim {name}: a quotation in {language} needs a translation")
        if claim["verdict"] not in VERDICTS:
            found.append(f"claim {name}: verdict {claim['verdict']!r} is not one of {', '.join(VERDICTS)}")
        tag = claim["cell"]
        used_tags.add(tag)
        tagged = cells.get(tag, [])
        if not tag.startswith(TAG):
            found.append(f"claim {name}: its cell tag {tag!r} must start with {TAG!r}")
        elif not tagged:
            found.append(f"claim {name}: no chapter has a cell tagged {tag}")
        elif len(tagged) > 1:
            where = ", ".join(cell["document"] for cell in tagged)
            found.append(f"claim {name}: {len(tagged)} cells are tagged {tag} ({where})")
        else:
            cell = tagged[0]
            if cell["number"] is None:
                found.append(f"claim {name}: the cell tagged {tag} in {cell['document']} was never executed")
            if cell["errors"]:
                found.append(f"claim {name}: the cell tagged {tag} in {cell['document']} stored an error")
    for tag in sorted(set(cells) - used_tags):
        found.append(f"the cell tagged {tag} in {cells[tag][0]['document']} decides no claim in claims.yml")
    return found


# The deciding cells as link targets -----------------------------------------


class ClaimCellTargets(SphinxTransform):
    """Give each cell tagged ``claim-*`` an anchor and a label named after its tag."""

    default_priority = 840  # before SphinxDomains (850) collects the labels

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.container):
            if "cell" not in node["classes"]:
                continue
            for tag in node.get("cell_metadata", {}).get("tags", []):
                if tag.startswith(TAG):
                    node["ids"].append(tag)
                    node["names"].append(tag)
                    self.document.note_explicit_target(node, node)


# Rendering ------------------------------------------------------------------


def _table(header, rows, widths):
    table = nodes.table(classes=["claims-ledger", "colwidths-given"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=width) for width in widths]
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for target, cells in [(head, header)] + [(body, row) for row in rows]:
        row_node = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=str(cell))
            row_node += entry
        target += row_node
    return table


def _cell_link(tag, cell):
    paragraph = nodes.paragraph()
    reference = addnodes.pending_xref(
        "", refdomain="std", reftype="ref", reftarget=tag, refexplicit=True, refwarn=True
    )
    reference += nodes.inline(text=f"{cell['title']}, cell [{cell['number']}]")
    paragraph += reference
    return paragraph


def _claim_text(claim):
    container = nodes.container()
    container += nodes.paragraph(text=claim["claim"])
    if claim.get("quote"):
        quoted = nodes.paragraph(classes=["claims-quote"])
        quoted += nodes.emphasis(text=f"“{claim['quote']}”")
        if claim.get("translation"):
            quoted += nodes.Text(f" ({claim['translation']})")
        container += quoted
    container += nodes.paragraph(text=claim["finding"])
    return container


def _verdict(claim):
    return nodes.paragraph("", "", nodes.strong(text=claim["verdict"], classes=[f"claims-{claim['verdict']}"]))


class _LedgerDirective(SphinxDirective):
    def ledger(self):
        root = Path(self.env.srcdir)
        self.env.note_dependency(str(root / LEDGER))
        notebooks = sorted((root / "book").glob("*.ipynb"))
        for path in notebooks:
            self.env.note_dependency(str(path))
        return load_ledger(root), claim_cells(notebooks)


class ClaimsSummary(_LedgerDirective):
    """The count of each verdict for each source; reports every problem of the ledger."""

    def run(self):
        ledger, cells = self.ledger()
        root = Path(self.env.srcdir)
        for problem in problems(ledger, cells, seed_keys(root / "references.bib")):
            logger.warning(f"claims ledger: {problem}", location=self.get_location())
        rows = []
        for key, source in ledger["sources"].items():
            verdicts = Counter(c["verdict"] for c in ledger["claims"] if c["source"] == key)
            rows.append([source["title"], *(verdicts[v] for v in VERDICTS), sum(verdicts.values())])
        return [_table(["Source", *VERDICTS, "claims"], rows, [4, 1.6, 1.6, 1.7, 1.4])]


class ClaimsLedger(_LedgerDirective):
    """One row per claim of the source named in the argument."""

    required_arguments = 1

    def run(self):
        ledger, cells = self.ledger()
        key = self.arguments[0]
        source = ledger["sources"].get(key)
        if source is None:
            logger.warning(f"claims ledger: no source {key!r} in claims.yml", location=self.get_location())
            return []
        output = [nodes.paragraph(text=source["note"])] if source.get("note") else []
        rows = []
        for claim in (c for c in ledger["claims"] if c["source"] == key):
            tagged = cells.get(claim["cell"], [])
            link = _cell_link(claim["cell"], tagged[0]) if tagged else nodes.paragraph(text="none")
            name = nodes.paragraph("", "", nodes.literal(text=claim["id"]))
            part = nodes.paragraph(text=claim["part"], classes=["claims-part"])
            rows.append([nodes.container("", name, part), _claim_text(claim), _verdict(claim), link])
        no_claims = [part for part in source.get("parts", []) if part.get("no_claims")]
        header = ["Claim and part", "What it says, quoted, and what the cell shows", "Verdict", "Decided by"]
        output.append(_table(header, rows, [3.6, 8.4, 2.7, 2.6]))
        for part in no_claims:
            output.append(nodes.paragraph(text=f"{part['name']}: no claims ({part['no_claims']})."))
        return output


def setup(app):
    app.add_transform(ClaimCellTargets)
    app.add_directive("claims-summary", ClaimsSummary)
    app.add_directive("claims-ledger", ClaimsLedger)
    app.add_css_file("claims_ledger.css")
    app.connect("builder-inited", _add_static_path)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _add_static_path(app):
    static = str(Path(__file__).resolve().parent / "static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)
