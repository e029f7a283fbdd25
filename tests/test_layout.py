"""The package's shape: no import circle, no module named like the standard library."""
import ast
import sys
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parents[1] / "postrender"


def imports() -> Dict[str, Set[str]]:
    """Each module (a package counts by its folder) -> the sibling modules it imports."""
    graph: Dict[str, Set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        deps = graph.setdefault(module, set())
        depth = len(path.relative_to(PACKAGE).parts) - 1  # a module inside a subpackage
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == depth + 1:
                names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
                deps.update(n for n in names if n != module)
    return graph


def test_no_module_imports_itself_through_others():
    graph = imports()

    def visit(module: str, path: List[str]) -> None:
        for dep in graph.get(module, ()):
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
