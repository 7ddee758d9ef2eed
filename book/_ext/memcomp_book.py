"""Small Sphinx fixes for the memcomp book.

sphinx-thebe registers its configuration script twice under Jupyter Book 1, which makes
browsers log "Identifier 'THEBE_JS_URL' has already been declared" on every page. We keep
the first copy of each identical script, and give the theme a colour mode.
"""


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), repr(sorted(getattr(script, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def _set_default_mode(app, pagename, templatename, context, doctree):
    """pydata-sphinx-theme logs a console error when its colour mode is empty."""
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", _set_default_mode, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
