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
        if name.startswith("suarawarga.storage") and name.removeprefix("suarawarga.storage.") not in STORAGE_PORTS
    }
    assert offenders == set()


STORAGE = SRC / "storage"
STORAGE_MACHINERY = {"orm", "db", "migrate", "__init__"}  # tables, engines and migrations: SQLAlchemy's own
STORAGE_PORTS = {
    p.stem for p in STORAGE.glob("*.py") if not p.stem.endswith("_sql") and p.stem not in STORAGE_MACHINERY
}
COMPOSITION_ROOT = "bootstrap.py"


def test_storage_modules_are_ports_or_sql() -> None:
    """Each storage module is SQL (`*_sql.py`, or the tables, engine and migrations) or a port importing no SQL."""
    offenders = {
        f"storage/{port}.py: {name}"
        for port in STORAGE_PORTS
        for name in _imports(STORAGE / f"{port}.py")
        if name.split(".")[0] in FORBIDDEN
        or (name.startswith("suarawarga.storage.") and name.removeprefix("suarawarga.storage.") not in STORAGE_PORTS)
    }
    assert "uow" in STORAGE_PORTS
    assert offenders == set()


def test_only_the_composition_root_imports_sql_repositories() -> None:
    """Outside storage/, only the composition root imports a `storage.*_sql` module; the rest use the ports."""
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] != "storage" and path.name != COMPOSITION_ROOT
        for name in _imports(path)
        if name.startswith("suarawarga.storage.") and name.endswith("_sql")
    }
    assert offenders == set()


def test_only_the_entry_point_imports_the_command_line() -> None:
    """The command line (`cli/`) is a face over the services: no module but `__main__` and `cli/` imports it."""
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in ("cli", "__main__.py")
        for name in _imports(path)
        if name == "suarawarga.cli" or name.startswith("suarawarga.cli.")
    }
    assert offenders == set()


PLATFORM_LIBRARIES = ("telegram", "httpx")
ADAPTERS = ("telegram", "whatsapp", "console")


def _core_modules() -> list[Path]:
    """Return the modules of the core: bot/ outside bot/channels/."""
    return [p for p in (SRC / "bot").rglob("*.py") if p.relative_to(SRC / "bot").parts[0] != "channels"]


def test_the_core_knows_no_platform() -> None:
    """bot/ outside bot/channels/ imports no platform library and no channel module (channels are registered)."""
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in _core_modules()
        for name in _imports(path)
        if name.split(".")[0] in PLATFORM_LIBRARIES or name.startswith("suarawarga.bot.channels")
    }
    assert offenders == set()


def test_loading_the_storage_ports_does_not_load_sqlalchemy() -> None:
    """The unit-of-work port and every repository Protocol load without SQLAlchemy (a fake can implement them)."""
    script = (
        "import sys\n"
        + "".join(f"import suarawarga.storage.{port}\n" for port in sorted(STORAGE_PORTS))
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_repository_of_the_unit_of_work_is_a_protocol_of_a_port() -> None:
    """Each repository the `UnitOfWork` port lists is typed by a Protocol defined in a storage port module."""
    import typing

    from suarawarga.storage import uow

    protocols: dict[str, type] = {}
    for port in STORAGE_PORTS - {"uow"}:
        module = __import__(f"suarawarga.storage.{port}", fromlist=["_"])
        protocols |= {
            name: value
            for name, value in vars(module).items()
            if isinstance(value, type) and getattr(value, "_is_protocol", False) and value.__module__ == module.__name__
        }
    hints = typing.get_type_hints(uow.UnitOfWork, localns=protocols)
    repositories = {name: hint for name, hint in hints.items() if not name.startswith("_")}
    assert len(repositories) >= 15
    assert {name: hint.__name__ for name, hint in repositories.items() if hint not in protocols.values()} == {}


def test_the_channel_toolkit_is_platform_neutral_and_adapters_stay_apart() -> None:
    """bot/channels/*.py (the toolkit) imports no platform library; an adapter never imports another adapter."""
    channels = SRC / "bot" / "channels"
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in channels.glob("*.py")
        if path.stem not in ADAPTERS
        for name in _imports(path)
        if name.split(".")[0] in PLATFORM_LIBRARIES
    }
    for adapter in ADAPTERS:
        paths = [*(channels / adapter).rglob("*.py"), channels / f"{adapter}.py"]
        others = [f"suarawarga.bot.channels.{other}" for other in ADAPTERS if other != adapter]
        offenders |= {
            f"{path.relative_to(SRC)}: {name}"
            for path in paths
            if path.is_file()
            for name in _imports(path)
            if any(name == other or name.startswith(other + ".") for other in others)
        }
    assert offenders == set()


def test_no_adapter_module_is_over_400_lines() -> None:
    """Each part of a channel adapter stays small enough to read in one go."""
    long = {
        f"{path.relative_to(SRC)}: {lines}"
        for path in (SRC / "bot" / "channels").rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 420
    }
    assert long == set()


def test_no_module_is_over_500_lines() -> None:
    """No module of the product grows into a bundle (#16: split by responsibility before it does)."""
    long = {
        f"{path.relative_to(SRC)}: {lines}"
        for path in SRC.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == set()


def test_benchmarks_and_the_product_do_not_import_the_tests() -> None:
    """The fake servers live in `fakes/`: benchmarks import them (never `tests`), and `src/` imports neither."""
    root = SRC.parents[1]
    offenders = {
        f"{path.relative_to(root)}: {name}"
        for folder, banned in (
            (root / "benchmarks", ("tests",)),
            (SRC, ("tests", "fakes")),
            (root / "fakes", ("tests",)),
        )
        for path in folder.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in banned
    }
    assert offenders == set()
