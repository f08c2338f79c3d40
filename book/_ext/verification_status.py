"""The verification status page, computed from the sources when the book is built.

The ``verification-status`` directive renders three tables:

- for each chapter, how many ``assert`` statements its code cells run and which
  ``xentref`` functions it calls;
- for each public function, the test files and tests that call it;
- the environment of the build, against the pins in ``requirements.txt``.

A pin that the build environment does not match is a warning, so a strict
build fails rather than publish outputs from unpinned versions.
"""

import ast
import importlib
import importlib.metadata
import json
import platform
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from table_of_contents import toc_documents

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


def count_asserts(trees):
    return sum(isinstance(node, ast.Assert) for tree in trees for node in ast.walk(tree))


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


def _table(header, rows):
    table = nodes.table(classes=["verification-status"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in header]
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
        chapter_rows, total = [], 0
        for docname in chapter_documents(root):
            path = root / f"{docname}.ipynb"
            self.env.note_dependency(str(path))
            trees = notebook_code(path)
            asserts = count_asserts(trees)
            total += asserts
            called = xentref_names(trees, _aliases(trees), public)
            chapter_rows.append((_doc_link(docname, notebook_title(path)), asserts, _literals(called)))

        test_files = sorted((root / "tests").glob("test_*.py"))
        for path in test_files:
            self.env.note_dependency(str(path))
        coverage = tests_by_function(test_files, public)
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

        summary = nodes.paragraph(
            text=f"The {len(chapter_rows)} chapters run {total} assert statements."
        )
        return [
            summary,
            _table(["Chapter", "assert statements", "xentref functions it calls"], chapter_rows),
            nodes.paragraph(text="The tests that call each public function (test file and number of tests):"),
            _table(["Function", "tests", "where"], function_rows),
            nodes.paragraph(text="The environment this page was built in:"),
            _table(["Package", "pinned", "installed"], environment_rows),
        ]


def setup(app):
    app.add_directive("verification-status", VerificationStatus)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
