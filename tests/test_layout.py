"""The package's shape: no import circle, no module named like the standard library, no module over 500
lines and no class over 200, no test module importing another."""
import ast
import sys
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parents[1] / "postrender"


def module_name(path: Path) -> str:
    """`spec/parse.py` -> `spec.parse`; a package is its `__init__`: `spec/__init__.py` -> `spec`."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> Dict[str, Set[str]]:
    """Each module of the package -> the modules of the package it imports, wherever the import
    stands (a function's lazy import counts) and however it is spelt (relative or absolute)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: Dict[str, Set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                elif (node.module or "").startswith("postrender"):
                    target = node.module[len("postrender."):] if node.module != "postrender" else ""
                else:
                    continue
                # `from .pkg import module` imports that module; `from .module import name` the module
                for alias in node.names:
                    submodule = f"{target}.{alias.name}".lstrip(".")
                    deps.add(submodule if submodule in modules else target)
            elif isinstance(node, ast.Import):
                deps.update(a.name[len("postrender."):] for a in node.names
                            if a.name.startswith("postrender.") and a.name[len("postrender."):] in modules)
        deps.discard(name)
    return graph


def test_the_import_graph_sees_lazy_and_absolute_imports():
    graph = imports()
    assert "cli" in graph["helm_plugin"], "the launcher's lazy `from postrender.cli import main`"
    assert "spec" in graph["cli"] and "findings" in graph["errors"]


def test_no_module_imports_itself_through_others():
    graph = imports()

    def visit(module: str, path: List[str]) -> None:
        for dep in sorted(graph.get(module, ())):
            assert dep not in path, f"import circle: {' -> '.join(path + [dep])}"
            visit(dep, path + [dep])

    for module in graph:
        visit(module, [module])


def test_no_module_is_named_like_a_standard_library_module():
    names = {p.stem for p in PACKAGE.rglob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert not names & set(sys.stdlib_module_names)


def test_no_test_module_imports_another():
    """Test modules share helpers through conftest.py only: importing another test module ties the
    two files together and collects the imported one's fixtures and tests twice."""
    tests = Path(__file__).resolve().parent
    test_modules = {path.stem for path in tests.glob("test_*.py")}
    found = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"{path.name} imports {name}" for name in names if name.split(".")[0] in test_modules]
    assert not found, found


def test_no_module_over_500_lines_and_no_class_over_200():
    too_big = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > 500:
            too_big.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None \
                    and node.end_lineno - node.lineno + 1 > 200:
                too_big.append(f"{path.name}: class {node.name} {node.end_lineno - node.lineno + 1} lines")
    assert not too_big, too_big
