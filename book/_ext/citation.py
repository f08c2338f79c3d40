"""Citation data for the book, taken from CITATION.cff and the package.

The version has one source, ``xentref.__version__``. CITATION.cff must carry
the same version or the build stops. The extension then makes the version and
the repository address available to every page as MyST substitutions
(``{{ version }}``, ``{{ repository }}``, and ``{{ repository_link }}``, the
address as a link), and provides the ``xentref-bibtex``
directive, which prints a BibTeX entry for the book or, with ``:chapter:``,
for one chapter, with the chapter's title and number as built. The year is
that of the version's ``date-released``. Entries point at the repository
itself: no release is tagged yet, so an address inside a tag would not
resolve.
"""

from pathlib import Path

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective


def citation_metadata(root):
    """CITATION.cff, after checking that its version is the package's."""
    import xentref

    metadata = yaml.safe_load((Path(root) / "CITATION.cff").read_text())
    if str(metadata["version"]) != xentref.__version__:
        raise ExtensionError(
            f"CITATION.cff gives version {metadata['version']} but "
            f"xentref.__version__ is {xentref.__version__}"
        )
    if "date-released" not in metadata:
        raise ExtensionError("CITATION.cff gives no date-released, so a citation would have no year")
    return metadata


def bibtex(metadata, chapter=None):
    """A BibTeX entry for the book, or for a chapter given as (key, title, number, path)."""
    year = str(metadata["date-released"])[:4]
    authors = " and ".join("{" + a["name"] + "}" for a in metadata["authors"])
    version = metadata["version"]
    repository = metadata["repository-code"]
    if chapter is None:
        fields = [
            ("title", "{" + metadata["title"] + "}"),
            ("author", authors),
            ("version", version),
            ("year", year),
            ("url", repository),
            ("license", metadata["license"]),
        ]
        kind, key = "software", "xentref"
    else:
        key_suffix, title, number, path = chapter
        fields = [
            ("title", title),
            ("booktitle", "{" + metadata["title"] + "}"),
            ("chapter", number),
            ("author", authors),
            ("edition", f"version {version}"),
            ("year", year),
            ("url", repository),
            ("note", f"File {path} in the repository"),
        ]
        kind, key = "incollection", f"xentref-{key_suffix}"
    width = max(len(name) for name, _ in fields)
    lines = [f"  {name:<{width}} = {{{value}}}," for name, value in fields]
    return "\n".join([f"@{kind}{{{key},", *lines, "}"])


class bibtex_entry(nodes.General, nodes.Element):
    """Placeholder resolved once chapter numbers are known."""


class XentrefBibtex(SphinxDirective):
    option_spec = {"chapter": directives.unchanged}

    def run(self):
        self.env.note_dependency(str(Path(self.env.srcdir) / "CITATION.cff"))
        return [bibtex_entry(chapter=self.options.get("chapter"))]


def _resolve(app, doctree, docname):
    metadata = citation_metadata(app.srcdir)
    for node in doctree.findall(bibtex_entry):
        chapter = node["chapter"]
        if chapter is None:
            text = bibtex(metadata)
        else:
            number = ".".join(map(str, app.env.toc_secnumbers.get(chapter, {}).get("", ())))
            title = app.env.titles[chapter].astext()
            suffix = chapter.rsplit("/", 1)[-1].replace("_", "-")
            text = bibtex(metadata, (suffix, title, number, f"{chapter}.ipynb"))
        node.replace_self(nodes.literal_block(text, text, language="bibtex"))


def _configure(app, config):
    metadata = citation_metadata(app.srcdir)
    repository = config.html_theme_options.get("repository_url")
    if repository != metadata["repository-code"]:
        raise ExtensionError(
            f"_config.yml names the repository {repository} but CITATION.cff "
            f"names {metadata['repository-code']}"
        )
    version = str(metadata["version"])
    config.version = config.release = version
    config.myst_substitutions = {
        **config.myst_substitutions,
        "version": version,
        "repository": repository,
        # Shown without its scheme, the theme does not shorten the address.
        "repository_link": f"[{repository.removeprefix('https://')}]({repository})",
    }


def setup(app):
    app.add_node(bibtex_entry)
    app.add_directive("xentref-bibtex", XentrefBibtex)
    app.connect("config-inited", _configure)
    app.connect("doctree-resolved", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
