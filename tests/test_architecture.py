"""The layout rules of docs/ARCHITECTURE.md, checked on the source: no import cycle anywhere in
src/vlanet (imports inside functions count too), no module imports a layer above its own, the
library never imports the command line, and every command module stays thin; the tests mirror
the packages."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def import_graph() -> dict[str, set[str]]:
    mods = {}
    for p in SRC.rglob("*.py"):
        name = ".".join(p.relative_to(SRC).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    target = full if full in mods else node.module if node.module in mods else None
                    if target and target != m:
                        graph[m].add(target)
            elif isinstance(node, ast.Import):
                graph[m].update(a.name for a in node.names if a.name in mods and a.name != m)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# The layers of docs/ARCHITECTURE.md, top first, by folder (or root module): a module may import
# its own layer or a lower one.
LAYERS = {
    "cli": ["cli", "__main__"],
    "applications": ["api", "experiments", "apps"],
    "pipelines": ["train", "predict", "eval", "checkpoint"],
    "core": ["model", "data"],
    "plumbing": ["config", "utils"],
}


def layer_of(module: str) -> int | None:
    """0 for plumbing up to 4 for the command line; None for the package root ``vlanet``."""
    if module == "vlanet":
        return None
    top = module.split(".")[1]
    for rank, names in enumerate(reversed(LAYERS.values())):
        if top in names:
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps
                  if layer_of(m) is not None and layer_of(d) is not None and layer_of(d) > layer_of(m))


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(import_graph()) == []


def test_the_layer_check_finds_an_upward_import():
    assert upward_imports({"vlanet.utils.spans": {"vlanet.model.loss"}, "vlanet.model.loss": {"vlanet.utils.spans"}}) == [
        "vlanet.utils.spans -> vlanet.model.loss"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_library_never_imports_the_command_line():
    graph = import_graph()
    users = sorted(m for m, deps in graph.items() if not m.startswith("vlanet.cli")
                   and any(d.startswith("vlanet.cli") for d in deps) and m != "vlanet.__main__")
    assert users == []


def test_command_modules_are_thin():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (SRC / "vlanet" / "cli").glob("*.py")}
    assert sizes and max(sizes.values()) <= 180, sizes


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_tests_mirror_the_packages():
    """Each subpackage of src/vlanet has a test folder of the same name holding its tests, and
    no test file of a subpackage's modules sits at the top of tests/."""
    tests = Path(__file__).resolve().parent
    packages = sorted(p.name for p in (SRC / "vlanet").iterdir() if (p / "__init__.py").is_file())
    for pkg in packages:
        assert list((tests / pkg).glob("test_*.py")), f"tests/{pkg}/ has no tests for src/vlanet/{pkg}/"
    top = {p.stem.removeprefix("test_") for p in tests.glob("test_*.py")}
    misplaced = sorted(f"tests/test_{pkg}_*.py" for pkg in packages if any(t.startswith(pkg + "_") for t in top))
    assert not misplaced, f"move these into their package's folder: {misplaced}"


def test_the_package_root_holds_only_the_entry_points():
    """Everything else lives in the folder of its layer (docs/ARCHITECTURE.md)."""
    root = sorted(p.stem for p in (SRC / "vlanet").glob("*.py"))
    assert len(root) <= 10, root


def test_every_function_reads_on_one_screen():
    """No function in src/ is over 60 lines: a longer one is split into named steps."""
    long = []
    for p in (SRC / "vlanet").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{p.relative_to(SRC)}:{node.lineno} {node.name}")
    assert long == []
