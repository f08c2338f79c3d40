"""The API page's list of functions, derived from ``xentref.__all__``.

``{xentref-functions}`` documents every public function with autodoc,
grouped by the module that defines it, in the order of ``__all__``, under a
heading taken from that module's docstring. A new function appears on the
page when it is exported; nobody edits a list.
"""

import importlib
import sys

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def listing():
    """``[(heading, [names])]``: the public functions grouped by defining module."""
    xentref = importlib.import_module("xentref")
    groups = {}
    for name in xentref.__all__:
        module = sys.modules[getattr(xentref, name).__module__]
        groups.setdefault(module, []).append(name)
    return [
        (module.__doc__.strip().splitlines()[0].rstrip("."), names)
        for module, names in groups.items()
    ]


class Functions(SphinxDirective):
    def run(self):
        sections = []
        for heading, names in listing():
            section = nodes.section(ids=[nodes.make_id(heading)])
            # Parsed, so that a heading's :math: renders (and the contents
            # list shows its formula, not the role).
            inline, messages = self.state.inline_text(heading, self.lineno)
            section += nodes.title(heading, "", *inline)
            section += messages
            text = "\n".join(f".. autofunction:: xentref.{name}" for name in names)
            section += self.parse_text_to_nodes(text)
            sections.append(section)
        return sections


def setup(app):
    app.add_directive("xentref-functions", Functions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
