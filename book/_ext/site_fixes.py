"""Fixes to the theme that every page of the site needs.

- pydata-sphinx-theme 0.17 fills ``navbar_persistent`` with a search field
  unless the option is set, and then renders its own header above the book's:
  a second "Search" box, and a second pair of ``.primary-toggle`` and
  ``.secondary-toggle`` buttons, hidden, ahead of the visible ones in the
  article header. Both themes' scripts bind only the first button of each
  class (``document.querySelector``), so the visible menu buttons did nothing.
  sphinx-book-theme means the header to be empty; setting the option to an
  empty list keeps it so.
- Sphinx lists an inline script twice when an extension adds it after the
  builder starts (sphinx-togglebutton and sphinx-thebe do); the second copy
  redeclares a ``const`` and throws. Each page keeps the first copy only.
- The theme reads its colour mode from ``localStorage`` and reports an error
  when nothing is stored yet, as on a first visit. The mode starts as "auto",
  the theme's own default, so the first page loads cleanly too.
- ``static/site_fixes.css`` keeps every page within the width of a phone and
  every block within the text column (see the comments there).
- ``static/search_fixes.js`` lists each search result once, under a title
  that says what it links to, with a snippet taken from the article rather
  than from the page's menus (see the comments there).
"""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def _no_theme_header(app, config):
    config.html_theme_options.setdefault("navbar_persistent", [])
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    # The two copies differ only in a filename of None versus "".
    kept = {}
    for script in context.get("script_files", []):
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        kept.setdefault(key, script)
    if "script_files" in context:
        context["script_files"] = list(kept.values())


def setup(app):
    app.add_js_file(
        None,
        body='document.documentElement.dataset.mode ||= "auto";',
        priority=0,
    )
    app.add_css_file("site_fixes.css")
    app.add_js_file("search_fixes.js", defer="defer")
    app.connect("config-inited", _no_theme_header)
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
