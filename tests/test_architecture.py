"""The package's shape is checked, not just described (docs/ARCHITECTURE.md).

Dependencies run one way, bottom of the stack first:
    errors -> format -> coding -> models | weights -> imaging -> layers -> encoder | backends
           -> api -> info | edit | needs | links -> notes | export -> the package's __init__
           -> testing -> eval -> cli -> __main__ -> webapp -> app.py
A module may import its own subpackage and anything below it, never above or beside it. The
app (app.py and webapp/) is checked too: it sits on top and reaches the package only through
its public modules.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aigic"
RANKS = {
    "errors": 0,
    "format": 1,
    "coding": 2,
    "models": 3,  # the coders' own learned predictors and their assets
    "weights": 3,  # third-party models: repos, pins, where files come from, download
    "imaging": 4,
    "layers": 5,
    "encoder": 6,
    "backends": 6,
    "api": 7,
    "info": 8,
    "edit": 8,
    "needs": 8,
    "links": 8,
    "notes": 9,
    "export": 9,
    "__init__": 10,
    "testing": 11,
    "eval": 12,
    "cli": 13,
    "__main__": 14,
    "webapp": 15,
    "app": 16,
}


def _modules():
    found = [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]
    return sorted([*found, *(ROOT / "webapp").glob("*.py"), ROOT / "app.py"])


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _parts(path: Path) -> tuple[str, ...]:
    """The dotted module name of ``path`` as parts: ('aigic', 'layers', 'texture')."""
    return path.relative_to(ROOT).with_suffix("").parts


def _component(path: Path) -> str:
    """The part of the project a file belongs to ('format', 'api', ..., 'webapp', 'app')."""
    parts = _parts(path)
    return parts[1] if parts[0] == "aigic" else parts[0]


def _imports(path: Path):
    """(line, absolute dotted module, imported names) of every import in ``path``, function
    bodies included."""
    return _imports_of(path.read_text(encoding="utf-8"), _parts(path))


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
    if parts[0] in ("webapp", "app"):
        return [parts[0]]
    if parts[0] != "aigic":
        return []
    if len(parts) > 1:
        return [parts[1]]
    return [n for n in names if n in RANKS] or ["__init__"]


def test_every_component_has_a_rank():
    assert {_component(p) for p in _modules()} <= set(RANKS)


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_imports_run_one_way(path):
    me = _component(path)
    for line, mod, names in _imports(path):
        for other in _target(mod, names):
            if other == me:
                continue
            assert RANKS[other] < RANKS[me], (
                f"{_name(path)}:{line} imports {mod} ({other}, rank "
                f"{RANKS[other]}) from {me} (rank {RANKS[me]}): a back- or side-arrow"
            )


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_no_private_names_cross_modules(path):
    for line, mod, names in _imports(path):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{_name(path)}:{line} imports {private} from {mod}"


def test_the_checker_resolves_relative_imports_and_sees_a_back_arrow():
    source = "from ..encoder.reduce import to_grid\nfrom . import edgemap\nfrom .. import api\n"
    found = [(m, _target(m, n)) for _, m, n in _imports_of(source, ("aigic", "layers", "x"))]
    assert found == [
        ("aigic.encoder.reduce", ["encoder"]),
        ("aigic.layers", ["layers"]),
        ("aigic", ["api"]),
    ]
    assert RANKS["encoder"] > RANKS["layers"] and RANKS["api"] > RANKS["layers"]
