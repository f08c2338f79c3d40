"""Two fixes that let every page load without a console error.

- Sphinx lists an inline script twice when an extension adds it after the
  builder starts (sphinx-togglebutton and sphinx-thebe do); the second copy
  redeclares a ``const`` and throws. Each page keeps the first copy only.
- The theme reads its colour mode from ``localStorage`` and reports an error
  when nothing is stored yet, as on a first visit. The mode starts as "auto",
  the theme's own default, so the first page loads cleanly too.
"""


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
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
