"""Imports point one way (docs/architecture.md): the import-linter contracts of pyproject.toml hold,
no module takes part in an import cycle, and nothing but the app's launchers imports aigc.ui."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"
# Scripts outside the package that build the page: the app, and the one that films it for the README.
LAUNCHERS = {"app.py", "scripts/readme_media.py"}


def _contract_ids() -> list[str]:
    return [c["id"] for c in read_configuration(str(CONFIG))["contracts_options"]]


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert found, "lint-imports is missing: pip install -r requirements-dev.txt"
    return found


def test_the_contracts_cover_layers_ui_and_cycles():
    """The contracts the suite runs are the ones the architecture promises (none dropped quietly)."""
    assert {"layers", "no-ui", "entry-points", "acyclic"} <= set(_contract_ids())


def test_every_module_has_a_place():
    """A new top-level module or package is placed in a layer (or is an entry point): one left out would be
    checked by no layer."""
    layers = next(c for c in read_configuration(str(CONFIG))["contracts_options"] if c["id"] == "layers")["layers"]
    placed = {name.strip().strip("()") for layer in layers for name in layer.replace("|", ":").split(":")}
    entry_points = {"aigc.__main__", "aigc.bench"}
    assert not _graph().find_children("aigc") - placed - entry_points


@pytest.mark.parametrize("contract", _contract_ids())
def test_import_contract(contract):
    done = subprocess.run([_lint_imports(), str(CONFIG), "--contract", contract, "--no-cache",
                           "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"import-linter contract '{contract}' is broken:\n{report}"
    assert "1 kept, 0 broken" in report, report


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("aigc", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """For each module in a cycle, one shortest cycle through it, as the modules in order."""
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycle = (importer, *back)
                start = cycle.index(min(cycle[:-1]))  # one spelling per cycle, whichever module it is found from
                cycles.add(cycle[start:-1] + cycle[:start + 1])
    return sorted(cycles)


def test_no_import_cycle():
    """Module by module, including a package's own __init__ (which acyclic_siblings does not see)."""
    found = _cycles(_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_cycle_check_sees_a_cycle():
    graph = _graph()
    graph.add_import(importer="aigc.errors", imported="aigc.pipelines.image")  # pipelines.image imports errors
    assert any({"aigc.errors", "aigc.pipelines.image"} <= set(c) for c in _cycles(graph))


def test_only_the_entry_points_import_the_package_root():
    """`import aigc` reaches the whole public API: a module below it that imported it would import upward.
    (from aigc import limits is an import of aigc.limits, and does not count.)"""
    graph = _graph()
    assert graph.find_modules_that_directly_import("aigc") <= {"aigc.__main__", "aigc.bench"}


def _imported_names(path: Path, module: str) -> set[str]:
    """Every module `path` imports, by absolute name: import statements anywhere in the file (relative
    ones resolved against `module`), and importlib.import_module / __import__ of a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                name = node.args[0].value
                if name.startswith(".") and (len(node.args) > 1 or any(k.arg == "package" for k in node.keywords)):
                    name = package + name  # import_module(".x", __name__) in this package
                names.add(name)
    return names


def _private_imports(path: Path, module: str) -> set[tuple[str, str]]:
    """(module, name) for each `from module import _name` in `path` (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found |= {(base, a.name) for a in node.names if a.name.startswith("_") and not a.name.startswith("__")}
    return found


def _top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_private_name_crosses_a_package():
    """What another part of the package needs is public (the review found evaluation reading the pipelines'
    private _gan, and a worker reading the text pipeline's _Batcher and _Job)."""
    crossing = []
    for path in sorted((ROOT / "aigc").rglob("*.py")):
        module = _module_name(path)
        crossing += [f"{module} imports {name} from {source}" for source, name in _private_imports(path, module)
                     if source.startswith("aigc") and _top(source) != _top(module)]
    assert not crossing, "\n".join(crossing)


def test_the_private_scan_sees_one(tmp_path):
    source = tmp_path / "conditional.py"
    source.write_text("from ..pipelines.conditional import _gan, draw\nfrom .digits import judge\n")
    assert _private_imports(source, "aigc.evaluation.conditional") == {("aigc.pipelines.conditional", "_gan")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_ui(names: set[str]) -> bool:
    return any(n == "aigc.ui" or n.startswith("aigc.ui.") for n in names)


def test_nothing_but_the_launchers_imports_ui():
    """A scan of the source, beside import-linter's graph: aigc/__init__.py, which holds aigc.ui and so is
    outside the forbidden contract, and the scripts outside the package are read too."""
    importers = set()
    for path in sorted((ROOT / "aigc").rglob("*.py")):
        module = _module_name(path)
        if module == "aigc.ui" or module.startswith("aigc.ui."):
            continue
        if _imports_ui(_imported_names(path, module)):
            importers.add(str(path.relative_to(ROOT)))
    for path in [ROOT / "app.py", *sorted((ROOT / "scripts").glob("*.py"))]:
        if _imports_ui(_imported_names(path, path.stem)):
            importers.add(str(path.relative_to(ROOT)))
    assert "app.py" in importers  # the scan finds the import it is meant to find
    assert importers <= LAUNCHERS, f"only {sorted(LAUNCHERS)} may import aigc.ui; also: {sorted(importers - LAUNCHERS)}"


def test_the_scan_resolves_relative_and_dynamic_imports(tmp_path):
    source = tmp_path / "tab.py"
    source.write_text("from ..ui import build_demo\nfrom .. import ui\nimport importlib\n"
                      "def later():\n    return importlib.import_module('aigc.ui.text_tab')\n")
    names = _imported_names(source, "aigc.pipelines.tab")
    assert {"aigc.ui", "aigc.ui.build_demo", "aigc.ui.text_tab"} <= names
    source.write_text("from ..registry import load\nSCRIPT = 'import aigc.ui'\n")
    assert not _imports_ui(_imported_names(source, "aigc.pipelines.tab"))
