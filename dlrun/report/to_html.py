"""Render a :class:`dlrun.report.model.Report` as one self-contained HTML page.

One generic template (``report.html.j2``) loops over the sections and their
blocks; Jinja's autoescape escapes every text, and the template marks nothing
safe. CSS is inline and figures are ``data:`` URIs, so the page needs nothing
else. Links go only to http(s) addresses and relative paths (the same rule as
the Markdown). jinja2 is imported when a page is rendered, never before.
"""

from __future__ import annotations

import base64

from dlrun.report.model import Report
from dlrun.report.to_markdown import safe_target

TEMPLATE = "report.html.j2"


def environment():
    import jinja2

    from dlrun.paths import templates_dir

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["href"] = lambda target: safe_target(target) or ""
    env.filters["data_uri"] = lambda png: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return env


def render_html(report: Report) -> str:
    from dlrun import __version__

    return environment().get_template(TEMPLATE).render(report=report, version=__version__)
