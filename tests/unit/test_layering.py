"""The domain owns its ports and depends on no framework, database, HTTP or queue library."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
FORBIDDEN = {"app", "infrastructure", "litestar", "cassandra", "httpx", "saq", "jinja2", "uvicorn", "redis",
             "aiosqlite", "sqlite3", "structlog", "prometheus_client", "argon2", "starlette", "requests"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_nothing_outside_its_layer() -> None:
    modules = sorted((ROOT / "domain").rglob("*.py"))
    assert len(modules) > 5  # the walk really found the domain
    offenders = {str(p.relative_to(ROOT)): sorted(_imported_roots(p) & FORBIDDEN) for p in modules}
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import litestar\nfrom infrastructure.storage import tables\nfrom . import sibling\n")
    assert _imported_roots(module) & FORBIDDEN == {"litestar", "infrastructure"}
