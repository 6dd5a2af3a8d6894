"""The dependency rules: flows and domain code never import a platform, HTTP or database library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "suarawarga"
FORBIDDEN = ("telegram", "httpx", "starlette", "sqlalchemy", "uvicorn")
NEUTRAL_PACKAGES = ("handlers", "complaints", "surveys", "reports")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", NEUTRAL_PACKAGES)
def test_neutral_packages_import_no_platform_library(package: str) -> None:
    """No module in handlers/, complaints/, surveys/ or reports/ imports telegram, httpx, starlette or sqlalchemy."""
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in (SRC / package).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_only_storage_imports_sqlalchemy() -> None:
    """SQLAlchemy is imported only by storage/ and the composition root."""
    allowed = {"storage", "bootstrap.py"}
    offenders = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in allowed
        and any(name.split(".")[0] == "sqlalchemy" for name in _imports(path))
    }
    assert offenders == set()


def test_loading_the_flows_does_not_load_sqlalchemy_or_platforms() -> None:
    """Importing every flow and domain module at run time pulls in none of the forbidden libraries."""
    modules = [
        f"suarawarga.{p.relative_to(SRC).with_suffix('').as_posix().replace('/', '.')}"
        for package in NEUTRAL_PACKAGES
        for p in (SRC / package).rglob("*.py")
        if p.name != "__init__.py"
    ]
    script = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_nothing_reads_the_environment_or_the_clock_at_import() -> None:
    """No module outside config.py and clock.py calls os.environ, Settings() or datetime.now()."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name in ("config.py", "clock.py"):
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("os.environ", "datetime.now(", "datetime.utcnow(", "Settings()"):
            if needle in source:
                offenders.append(f"{path.relative_to(SRC)}: {needle}")
    assert offenders == []


WEB_PACKAGES = ("site", "staffweb")


@pytest.mark.parametrize("package", WEB_PACKAGES)
def test_the_web_faces_use_the_services_not_storage(package: str) -> None:
    """The public site reaches data through the services and the unit-of-work protocol, never storage itself."""
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in (SRC / package).rglob("*.py")
        for name in _imports(path)
        if name.startswith("suarawarga.storage") and name != "suarawarga.storage.uow"
    }
    assert offenders == set()
