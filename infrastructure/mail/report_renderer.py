"""The Jinja ``ReportRenderer`` over ``templates/email``; autoescaping is on for every value."""

from __future__ import annotations

from pathlib import Path

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from domain.sct.report import ReportContext

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"


class JinjaReportRenderer:
    """Renders ``report.html.j2``; the one unescaped value is a ``custom_html`` section, which the caller wrote."""

    def __init__(self, directory: Path = TEMPLATES) -> None:
        # autoescape=True for every template: run data (event messages, package names) comes from CI jobs.
        self._env = Environment(loader=FileSystemLoader(directory), autoescape=True, undefined=StrictUndefined)

    def render(self, context: ReportContext) -> str:
        """The report's HTML body."""
        return self._env.get_template("report.html.j2").render(msgspec.to_builtins(context))
