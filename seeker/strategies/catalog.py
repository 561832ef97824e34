"""What strategies exist, read from their source without importing them (for ``seeker list``).

Importing a strategy loads the engine, numpy, scipy and the exchange calendars — most of a
second. Listing them, or checking a name a user typed, needs only each strategy's ``name`` and
``description``: both are plain strings in the class that ``@register`` decorates, so they are
read from the module's syntax tree. A strategy whose name or description is not a literal
string (or whose source cannot be found) is imported instead, so the catalog is always
complete; ``load()`` stays the only way to *run* a strategy.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from seeker.strategies import BUNDLED, ENTRY_POINT_GROUP


@dataclass(frozen=True)
class CatalogEntry:
    """One strategy as ``seeker list`` shows it: its name, what it does, where it comes from."""

    name: str
    description: str
    module: str


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_register(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id == "register"
    return isinstance(target, ast.Attribute) and target.attr == "register"


def classes_in(source: str) -> Iterator[tuple[str | None, str | None]]:
    """Yield (name, description) of each ``@register`` class in a module's source.

    Either is None when it is not a literal string (then the module must be imported).
    """
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef) or not any(map(_is_register, node.decorator_list)):
            continue
        found: dict[str, str | None] = {"name": None, "description": None}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in found:
                found[target.id] = _literal(value)
        yield found["name"], found["description"]


def _sources(module: str) -> list[tuple[str, Path]]:
    """Return (module name, file) of a module, or of every module of a package."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ImportError(f"no module named {module!r}")
    if spec.submodule_search_locations:
        out = []
        for folder in spec.submodule_search_locations:
            for path in sorted(Path(folder).glob("*.py")):
                stem = path.stem
                out.append((module if stem == "__init__" else f"{module}.{stem}", path))
        return out
    if spec.origin is None or not spec.origin.endswith(".py"):
        raise ImportError(f"{module}: no Python source to read")
    return [(module, Path(spec.origin))]


def _read(module: str) -> list[CatalogEntry] | None:
    """Return the strategies a module (or package) declares, None when one must be imported."""
    try:
        sources = _sources(module)
    except (ImportError, ValueError, OSError):
        return None
    out: list[CatalogEntry] = []
    for name, path in sources:
        try:
            source = path.read_text(encoding="utf-8")
            found = list(classes_in(source)) if "register" in source else []
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None
        for strategy, description in found:
            if strategy is None or description is None:
                return None
            out.append(CatalogEntry(strategy, description, name))
    return out or None


def _imported() -> list[CatalogEntry]:
    from seeker.strategies import load

    return [CatalogEntry(name, cls.description, cls.__module__) for name, cls in load().items()]


def catalog() -> dict[str, CatalogEntry]:
    """Return every strategy Seeker can run by name: the bundled ones and installed plugins.

    Read from source; when any strategy cannot be read that way, every one is imported.
    """
    modules = [*BUNDLED, *(e.module for e in entry_points(group=ENTRY_POINT_GROUP))]
    entries: list[CatalogEntry] = []
    for module in dict.fromkeys(modules):
        found = _read(module)
        if found is None:
            entries = _imported()
            break
        entries.extend(found)
    return {e.name: e for e in sorted(entries, key=lambda e: e.name)}


def strategy_names() -> list[str]:
    """Return the names of every strategy Seeker can run, sorted."""
    return sorted(catalog())
