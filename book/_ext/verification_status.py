"""The verification status page, computed from the sources when the book is built.

The ``verification-status`` directive renders three tables:

- for each chapter, how many claims of the claims ledger its executed cells
  decide, by verdict, and which ``xentref`` functions it calls (a count of
  ``assert`` statements says nothing about what they check; the ledger says
  which claim each checking cell decides);
- for each public function, the test files and tests that call it, the
  contract battery's tests included (collected by pytest);
- the environment of the build, against the pins in ``requirements.txt``.

A pin that the build environment does not match is a warning, so a strict
build fails rather than publish outputs from unpinned versions.
"""

import ast
import importlib
import importlib.metadata
import json
import platform
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from table_of_contents import toc_documents

import claims_ledger

logger = logging.getLogger(__name__)


# Reading the sources --------------------------------------------------------


def chapter_documents(root):
    """Document names of the notebooks in ``_toc.yml``, in reading order."""
    return [name for name in toc_documents(root) if (Path(root) / f"{name}.ipynb").exists()]


def notebook_code(path):
    cells = json.loads(Path(path).read_text())["cells"]
    return [ast.parse("".join(c["source"])) for c in cells if c["cell_type"] == "code"]


def notebook_title(path):
    for cell in json.loads(Path(path).read_text())["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if cell["cell_type"] == "markdown" and line.startswith("# "):
                return line[2:].strip()
    return Path(path).stem


def claims_by_chapter(ledger, cells):
    """``{document: Counter(verdict)}``: the verdicts of the claims each chapter's cells decide."""
    decided = {}
    for claim in ledger["claims"]:
        for cell in cells.get(claim["cell"], []):
            decided.setdefault(cell["document"], Counter())[claim["verdict"]] += 1
    return decided


def _aliases(trees):
    """Local names bound to ``xentref`` or to its members, and what they name."""
    aliases = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "xentref":
                        aliases[alias.asname or "xentref"] = ""
            elif isinstance(node, ast.ImportFrom) and node.module == "xentref":
                for alias in node.names:
                    aliases[alias.asname or alias.name] = alias.name
    return aliases


def _qualified(node, aliases):
    """``entropy`` for ``xentref.entropy``, ``symbolic.entropy`` for ``symbolic.entropy``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    parts.append(aliases[node.id])
    return ".".join(part for part in reversed(parts) if part)


def xentref_names(nodes_, aliases, public):
    """The public ``xentref`` names that `nodes_` refer to."""
    found = set()
    for tree in nodes_:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Attribute, ast.Name)):
                name = _qualified(node, aliases)
                if name in public:
                    found.add(name)
    return found


def public_names():
    """Every public function of the package, qualified as in the table."""
    xentref = importlib.import_module("xentref")
    names = set(xentref.__all__)
    for module in ("symbolic", "grad"):
        try:
            sub = importlib.import_module(f"xentref.{module}")
        except ImportError:
            continue
        names |= {f"{module}.{name}" for name in sub.__all__}
    return names


def _strings(node):
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _looked_up(function, aliases, strings, public):
    """Names reached as ``getattr(module, name)``, with `name` among `strings`."""
    found = set()
    for call in ast.walk(function):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "getattr"
            and isinstance(call.args[0], ast.Name)
            and call.args[0].id in aliases
        ):
            prefix = aliases[call.args[0].id]
            found |= {f"{prefix}.{s}" if prefix else s for s in strings} & public
    return found


def tests_by_function(test_files, public):
    """``{function: {test file: [test names]}}`` for the given test files.

    A test covers a function when its body or decorators mention it, directly,
    through a module-level name such as a list of functions to parametrize
    over, or as ``getattr(module, name)`` with `name` drawn from the strings of
    its decorators and of the module-level names it uses.
    """
    coverage = {}
    for path in test_files:
        tree = ast.parse(Path(path).read_text())
        aliases = _aliases([tree])
        module_names, module_strings = {}, {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        module_names[target.id] = xentref_names([node.value], aliases, public)
                        module_strings[target.id] = _strings(node.value)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                covered = set(xentref_names([node], aliases, public))
                strings = set().union(*(_strings(d) for d in node.decorator_list))
                for used in ast.walk(node):
                    if isinstance(used, ast.Name) and used.id in module_names:
                        covered |= module_names[used.id]
                        strings |= module_strings[used.id]
                covered |= _looked_up(node, aliases, strings, public)
                for name in covered:
                    coverage.setdefault(name, {}).setdefault(Path(path).name, []).append(node.name)
    return coverage


def contract_coverage(root):
    """``{function: [contract tests]}``: the battery's tests, as pytest collects them.

    tests/test_contract.py runs one parametrised test per case of the
    registry, so reading its source finds no names; its collected test ids
    begin with the case id, ``name`` or ``name[variant]``. A gradient test
    covers ``grad.name``.
    """
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/test_contract.py"],
        cwd=root, capture_output=True, text=True, check=False,
    )
    coverage = {}
    for line in collected.stdout.splitlines():
        match = re.match(r"tests/test_contract\.py::(test_\w+)\[(\w+)", line)
        if match:
            test, name = match.groups()
            if "gradient" in test:
                name = f"grad.{name}"
            coverage.setdefault(name, []).append(f"{test}[{line.split('[', 1)[1]}")
    return coverage


def direct_pins(requirements):
    """The first block of ``name==version`` lines: what the book uses directly."""
    pins = []
    for line in Path(requirements).read_text().splitlines():
        line = line.strip()
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins.append((name.strip(), version.strip()))
        elif not line and pins:
            break
    return pins


# Rendering -------------------------------------------------------------------


def _table(header, rows, widths):
    table = nodes.table(classes=["verification-status", "colwidths-given"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=width) for width in widths]
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body
    for target, cells in [(head, header)] + [(body, row) for row in rows]:
        row_node = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=str(cell))
            row_node += entry
        target += row_node
    return table


def _literals(names):
    paragraph = nodes.paragraph()
    for index, name in enumerate(sorted(names)):
        if index:
            paragraph += nodes.Text(", ")
        paragraph += nodes.literal(text=name)
    return paragraph or nodes.paragraph(text="none")


def _doc_link(docname, title):
    paragraph = nodes.paragraph()
    reference = addnodes.pending_xref(
        "", refdomain="std", reftype="doc", reftarget=f"/{docname}", refexplicit=True, refwarn=True
    )
    reference += nodes.inline(text=title)
    paragraph += reference
    return paragraph


class VerificationStatus(SphinxDirective):
    def run(self):
        root = Path(self.env.srcdir)
        public = public_names()
        documents = chapter_documents(root)
        ledger = claims_ledger.load_ledger(root)
        self.env.note_dependency(str(root / claims_ledger.LEDGER))
        decided = claims_by_chapter(ledger, claims_ledger.claim_cells(root / f"{d}.ipynb" for d in documents))
        chapter_rows, total = [], Counter()
        for docname in documents:
            path = root / f"{docname}.ipynb"
            self.env.note_dependency(str(path))
            trees = notebook_code(path)
            verdicts = decided.get(docname, Counter())
            total += verdicts
            called = xentref_names(trees, _aliases(trees), public)
            counts = ", ".join(f"{verdicts[v]} {v}" for v in claims_ledger.VERDICTS if verdicts[v])
            chapter_rows.append((_doc_link(docname, notebook_title(path)), counts or "none", _literals(called)))

        test_files = sorted((root / "tests").glob("test_*.py"))
        for path in test_files:
            self.env.note_dependency(str(path))
        coverage = tests_by_function(test_files, public)
        for name, tests in contract_coverage(root).items():
            coverage.setdefault(name, {})["test_contract.py"] = tests
        function_rows = []
        for name in sorted(public):
            files = coverage.get(name, {})
            tests = sum(len(found) for found in files.values())
            where = "; ".join(f"{file} ({len(found)})" for file, found in sorted(files.items()))
            if not tests:
                logger.warning(f"verification status: no test calls xentref.{name}", location=self.get_location())
            function_rows.append((_literals([name]), tests, where or "none"))

        environment_rows = [("Python", "", platform.python_version())]
        requirements = root / "requirements.txt"
        self.env.note_dependency(str(requirements))
        for package, pinned in direct_pins(requirements):
            installed = importlib.metadata.version(package)
            if installed != pinned:
                logger.warning(
                    f"verification status: {package} {installed} is installed but "
                    f"requirements.txt pins {pinned}",
                    location=self.get_location(),
                )
            environment_rows.append((package, pinned, installed))
        environment_rows.append(("xentref", "", importlib.import_module("xentref").__version__))

        summary = nodes.paragraph()
        summary += nodes.Text(
            f"The {len(chapter_rows)} chapters decide {sum(total.values())} claims of the "
        )
        summary += _doc_link("book/claims", "claims ledger")[0]
        summary += nodes.Text(
            ": " + ", ".join(f"{total[v]} {v}" for v in claims_ledger.VERDICTS) + "."
        )
        return [
            summary,
            _table(["Chapter", "claims its cells decide", "xentref functions it calls"], chapter_rows,
                   [3, 3, 5]),
            nodes.paragraph(text="The tests that call each public function (test file and number of tests):"),
            _table(["Function", "tests", "where"], function_rows, [4, 1.3, 6]),
            nodes.paragraph(text="The environment this page was built in:"),
            _table(["Package", "pinned", "installed"], environment_rows, [2, 1, 1]),
        ]


def setup(app):
    app.add_directive("verification-status", VerificationStatus)
    app.add_css_file("verification_status.css")
    app.connect("builder-inited", _add_static_path)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _add_static_path(app):
    static = str(Path(__file__).resolve().parent / "static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)
