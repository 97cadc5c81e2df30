"""The package's folders show the pipeline, and the imports keep to it.

Layers, lowest first: the contract (the data shapes, errors, data-file paths, case reading), then
`analysis` (reading Russian), `guard` (rules and their check kinds), `model` (the model loop),
`evals` (measuring) and the surfaces (the CLI, the HTTP server, the MCP server). A module may
import its own layer and the layers below it, never one above; and no set of modules may import
each other in a circle, even through imports inside functions. Read from the source with `ast`,
so a lazy import counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rewriter"

CONTRACT = {"rewriter.models", "rewriter.errors", "rewriter.paths", "rewriter.loading"}
SURFACE_MODULES = {"rewriter.cli", "rewriter.mcp_server"}
SURFACE_PACKAGES = ("rewriter.serve",)
LAYERS = ("contract", "analysis", "guard", "model", "evals", "surface")
RANK = {name: i for i, name in enumerate(LAYERS)}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "_data" not in p.parts}


def layer_of(name: str) -> str | None:
    """The layer of a module; None for the package facade `rewriter` itself: it imports nothing
    at load time (its exports are named as strings), so importing it for `__version__` is free."""
    if name == "rewriter":
        return None
    if name in CONTRACT:
        return "contract"
    if name in SURFACE_MODULES or name.startswith(SURFACE_PACKAGES):
        return "surface"
    sub = name.split(".")[1]
    if sub in RANK and sub not in ("contract", "surface"):
        return sub
    raise AssertionError(f"{name} belongs to no layer: place it in a subpackage or the map above")


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every rewriter module `path` imports, at any depth of the file."""
    source = path.read_text(encoding="utf-8")
    return imports_in(source, module_name(path), path.name == "__init__.py", known)


def imports_in(source: str, me: str, is_package: bool, known: set[str]) -> set[str]:
    package = me if is_package else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            # `from rewriter.guard import engine` imports the module rewriter.guard.engine
            targets = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            targets = targets or [mod]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("rewriter") and target != me:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) for name, path in mods.items()}


def test_every_module_has_a_layer_and_top_level_is_contract_and_surfaces() -> None:
    for name in modules():
        layer = layer_of(name)
        if name.count(".") == 1 and not (name.split(".")[1] in RANK or layer is None):
            assert layer in ("contract", "surface"), (
                f"{name}: only the contract and surfaces live at the top"
            )


def test_imports_follow_the_pipeline() -> None:
    wrong = []
    for name, deps in graph().items():
        mine = layer_of(name)
        if mine is None:
            continue
        for dep in deps:
            theirs = layer_of(dep)
            if dep.count(".") == 1 and theirs not in ("contract", "surface") and theirs:
                continue  # a subpackage's own __init__ (its docstring) is no dependency
            if theirs is not None and RANK[theirs] > RANK[mine]:
                wrong.append(f"{name} ({mine}) imports {dep} ({theirs})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles() -> None:
    deps = graph()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(deps.get(node, ())):
            if nxt == "rewriter":
                continue
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(deps):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_every_subpackage_explains_itself() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init}: say what it owns and what it may import"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from rewriter.guard.engine import check", {"rewriter.guard.engine"}),
        ("from rewriter.guard import engine", {"rewriter.guard.engine"}),
        ("import rewriter.model.loop", {"rewriter.model.loop"}),
        ("def f():\n    from rewriter.evals import batch", {"rewriter.evals.batch"}),
        ("from .text import analyse", {"rewriter.analysis.text"}),
        ("from ..models import Case", {"rewriter.models"}),
    ],
)
def test_the_import_reader_sees_every_form(source: str, expected: set[str]) -> None:
    """The guard above is only as good as its reader: every import form must be seen."""
    assert imports_in(source, "rewriter.analysis.facts", False, set(modules())) == expected


def test_public_api_unchanged() -> None:
    from rewriter import Case, arewrite, check, evaluate, rewrite

    assert all(callable(f) for f in (check, rewrite, arewrite, evaluate))
    assert Case(draft="Проверим.").draft == "Проверим."


def test_the_graph_the_guards_walk_is_the_real_one() -> None:
    """The layer and cycle tests pass on an empty graph: it must hold every subpackage and the
    engine's known imports, lazy ones included, or those guards check nothing."""
    deps = graph()
    assert {"rewriter.guard.engine", "rewriter.cli", "rewriter.analysis.text"} <= set(deps)
    assert {"rewriter.guard.rules", "rewriter.models"} <= deps["rewriter.guard.engine"]
    assert {layer_of(name) for name in deps} >= set(LAYERS)
    assert len(list(PACKAGE.glob("*/__init__.py"))) >= 4  # analysis, guard, model, evals
