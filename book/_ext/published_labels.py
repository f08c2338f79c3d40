"""The labels a citation can point at, written to ``labels.txt`` in the site.

A citation of an equation, a theorem, a section or an exercise names its
label, so a label must keep its name and its document in every later
version. After each HTML build this extension writes every such label, its
kind and its document to ``<html>/labels.txt``, one per line, sorted.
``tools/labels.py`` compares that file with the committed ``book/labels.txt``
and records new labels there; ``tests/test_site.py`` fails when a committed
label disappears or moves without being recorded.

Labels that Sphinx or an extension makes up (``book/entropy-solution-3``)
are not the authors' and are left out: they contain the document's path.
"""

from pathlib import Path

from docutils import nodes

KINDS = {nodes.section: "section", nodes.figure: "figure", nodes.table: "table"}


def _kind_of(doctree, node_id):
    for node in doctree.findall(nodes.Element):
        if node_id in node.get("ids", ()):
            for node_type, kind in KINDS.items():
                if isinstance(node, node_type):
                    return kind
            return node.tagname
    return "target"


def published_labels(env):
    """``{label: (kind, document)}`` for every label the authors wrote."""
    found = {}
    for label, (docname, _number) in env.domaindata["math"]["objects"].items():
        found[label] = ("equation", docname)
    for label, proof in getattr(env, "proof_list", {}).items():
        found[label] = (proof["realtype"], proof["docname"])
    for label, exercise in getattr(env, "sphinx_exercise_registry", {}).items():
        found[label] = (exercise["type"].removesuffix("-start"), exercise["docname"])
    doctrees = {}
    for label, (docname, node_id, _title) in env.domaindata["std"]["labels"].items():
        if label in found or docname not in env.found_docs:
            continue
        if docname not in doctrees:
            doctrees[docname] = env.get_doctree(docname)
        found[label] = (_kind_of(doctrees[docname], node_id), docname)
    return {label: entry for label, entry in found.items() if "/" not in label}


def _write(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    lines = [f"{label} {kind} {docname}" for label, (kind, docname) in sorted(published_labels(app.env).items())]
    (Path(app.outdir) / "labels.txt").write_text("\n".join(lines) + "\n")


def setup(app):
    app.connect("build-finished", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
