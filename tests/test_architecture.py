"""The package's shape is checked, not just described (README, "How the code is laid out").

Dependencies run one way, bottom of the stack first:
    errors -> format -> coding -> models -> imaging -> layers -> encoder | backends
           -> api -> info | edit -> the package's __init__ -> tools -> __main__
A module may import its own subpackage and anything below it, never above or beside it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aigic"
RANKS = {
    "errors": 0,
    "format": 1,
    "coding": 2,
    "models": 3,
    "imaging": 4,
    "layers": 5,
    "encoder": 6,
    "backends": 6,
    "api": 7,
    "info": 8,
    "edit": 8,
    "__init__": 9,
    "tools": 10,
    "__main__": 11,
}
MAX_LINES = 300


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _component(path: Path) -> str:
    """The top-level part of the package a file belongs to ('format', 'api', ...)."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path):
    """(line, absolute dotted module, imported names) of every import in ``path``, function
    bodies included."""
    parts = ("aigic", *path.relative_to(PACKAGE).with_suffix("").parts)
    return _imports_of(path.read_text(encoding="utf-8"), parts)


def _imports_of(source: str, parts: tuple[str, ...]):
    package = parts[:-1]  # a module's package; for an __init__, the package itself
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ((node.module,) if node.module else ()))
            else:
                mod = node.module or ""
            yield node.lineno, mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []


def _target(mod: str, names: list[str]) -> list[str]:
    """The components an import reaches: ``from aigic import edit`` reaches 'edit'."""
    parts = mod.split(".")
    if parts[0] != "aigic":
        return []
    if len(parts) > 1:
        return [parts[1]]
    return [n for n in names if n in RANKS] or ["__init__"]


def test_every_component_has_a_rank():
    assert {_component(p) for p in _modules()} <= set(RANKS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    me = _component(path)
    for line, mod, names in _imports(path):
        for other in _target(mod, names):
            if other == me:
                continue
            assert RANKS[other] < RANKS[me], (
                f"{path.relative_to(PACKAGE)}:{line} imports {mod} ({other}, rank "
                f"{RANKS[other]}) from {me} (rank {RANKS[me]}): a back- or side-arrow"
            )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_cross_modules(path):
    for line, mod, names in _imports(path):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{path.relative_to(PACKAGE)}:{line} imports {private} from {mod}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {n} lines (at most {MAX_LINES})"


def test_the_checker_resolves_relative_imports_and_sees_a_back_arrow():
    source = "from ..encoder.reduce import to_grid\nfrom . import edgemap\nfrom .. import api\n"
    found = [(m, _target(m, n)) for _, m, n in _imports_of(source, ("aigic", "layers", "x"))]
    assert found == [
        ("aigic.encoder.reduce", ["encoder"]),
        ("aigic.layers", ["layers"]),
        ("aigic", ["api"]),
    ]
    assert RANKS["encoder"] > RANKS["layers"] and RANKS["api"] > RANKS["layers"]
