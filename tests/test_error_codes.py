"""Every code a mutation can raise is in its domain's table, so the runner never turns a refusal into an
internal error (AdminErrorCode once lacked NOT_A_SERVICE_ACCOUNT and OUT_OF_RANGE, which resolvers raised).

The check reads the source: from the schema module of each mutation, every `resolvers` module it
imports (and they import, transitively) is searched for the codes it raises: `BadInput(field, "CODE", …)`,
`SomeErrorCode.CODE`, and the codes of the few typed refusals that come from below (`DelegationRefusal`,
`NationalIdProblem`). A module that raises a code computed at run time must say where its codes come from.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path
from typing import get_args

import pytest

from authz.delegation import DelegationRefusal
from models.child import NationalIdProblem
from resolvers.errors import ErrorCode
from schema.errors import CODES, README_BEGIN, README_END, codes_markdown
from schema.mutations import error_type_of
from schema.root import Mutation

ROOT = Path(__file__).resolve().parent.parent

# Typed refusals decided below resolvers: the function that returns one, and the codes it may return.
REFUSALS_FROM_BELOW = {"check_delegation": DelegationRefusal, "national_id_problem": NationalIdProblem}
# Modules that pass a code held in a variable, and why that is safe.
COMPUTED_CODES = {
    "resolvers.admin.grants": "DelegationRefusal, looked up in AdminErrorCode",
    "resolvers.students.records": "NationalIdProblem from models.child.national_id_problem",
    "resolvers.reports.drafting": "ReportErrorCode members named in the module",
    "resolvers.rosters.imports": "a RosterFileError's code, a RosterErrorCode member (resolvers/rosters/files.py)",
}


def module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None
    assert spec.origin is not None
    return Path(spec.origin)


@cache
def parsed(name: str) -> ast.Module:
    return ast.parse(module_file(name).read_text(encoding="utf-8"))


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@cache
def imported_names(module: str) -> dict[str, tuple[str, str | None]]:
    """Each name a module imports: (module, attribute), or (module, None) for a module itself."""
    package = module if module_file(module).name == "__init__.py" else module.rsplit(".", 1)[0]
    names: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(parsed(module)):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                names[alias.asname or alias.name] = (candidate, None) if is_module(candidate) else (target, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = (alias.name, None)
    return names


@cache
def definitions(module: str) -> dict[str, ast.AST]:
    """A module's top-level functions and classes (a class counts as one body)."""
    return {
        node.name: node
        for node in parsed(module).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def callees(module: str, body: ast.AST) -> set[tuple[str, str]]:
    """The project functions a body refers to, as (module, name)."""
    names = imported_names(module)
    found: set[tuple[str, str]] = set()
    # A field's own resolver (`strawberry.field(resolver=…)`) runs as a field of the payload, after the
    # mutation's runner, and its refusals are GraphQL errors, not the payload's: not followed.
    field_resolvers = {
        id(keyword.value)
        for node in ast.walk(body)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "resolver"
    }
    for node in ast.walk(body):
        if id(node) in field_resolvers:
            continue
        if isinstance(node, ast.Name):
            if node.id in definitions(module):
                found.add((module, node.id))
            elif node.id in names and names[node.id][1] is not None:
                found.add((names[node.id][0], names[node.id][1] or ""))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = names.get(node.value.id)
            if target is not None and target[1] is None:
                found.add((target[0], node.attr))
    return {(m, n) for m, n in found if m.startswith(("resolvers.", "schema."))}


def reachable_bodies(module: str, function: str) -> list[ast.AST]:
    """Every project function a mutation's resolver can call, directly or through others."""
    seen: set[tuple[str, str]] = set()
    bodies: list[ast.AST] = []
    todo = [(module, function)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        mod, name = key
        body = definitions(mod).get(name) if is_module(mod) else None
        if body is None:
            continue
        bodies.append(body)
        todo.extend(callees(mod, body) - seen)
    return bodies


def raised_codes(tree: ast.AST) -> tuple[set[str], list[int]]:
    """The codes a module raises, and the lines where a code is computed at run time."""
    codes: set[str] = set()
    computed: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "BadInput" and len(node.args) >= 2:
                code = node.args[1]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    codes.add(code.value)
                elif not (isinstance(code, ast.Attribute) and code.attr.isupper()):
                    computed.append(node.lineno)
            elif node.func.id in REFUSALS_FROM_BELOW:
                codes.update(get_args(REFUSALS_FROM_BELOW[node.func.id]))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id.endswith("ErrorCode")
            and node.attr.isupper()
        ):
            codes.add(node.attr)
    return codes, computed


def mutations() -> list[tuple[str, str, str, type[ErrorCode]]]:
    """(mutation, its resolver's module and function, the table of its payload's errors)."""
    found = []
    for field in Mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        resolver = field.base_resolver.wrapped_func
        found.append((field.name, resolver.__module__, resolver.__name__, CODES[error_type_of(field.type)]))
    return found


def test_every_mutation_has_a_payload_with_typed_errors() -> None:
    found = mutations()
    assert len(found) == len(Mutation.__strawberry_definition__.fields)  # type: ignore[attr-defined]
    assert {table.__name__ for *_, table in found} == {t.__name__ for t in CODES.values()}


@pytest.mark.parametrize(
    ("mutation", "module", "function", "table"), mutations(), ids=lambda v: getattr(v, "__name__", str(v))
)
def test_every_code_a_mutation_can_raise_is_in_its_domain_table(
    mutation: str, module: str, function: str, table: type[ErrorCode]
) -> None:
    bodies = reachable_bodies(module, function)
    assert len(bodies) > 1, f"{mutation}: its resolver calls no use case?"
    raised: set[str] = set()
    for body in bodies:
        raised |= raised_codes(body)[0]
    missing = raised - set(table.__members__)
    assert not missing, f"{mutation} can raise codes missing from {table.__name__}: {sorted(missing)}"


def test_a_code_computed_at_run_time_comes_from_a_declared_source() -> None:
    undeclared = {}
    for py in sorted((ROOT / "resolvers").rglob("*.py")):
        name = ".".join(py.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        _, computed = raised_codes(parsed(name))
        if computed and name not in COMPUTED_CODES:
            undeclared[name] = computed
    assert not undeclared, f"BadInput with a computed code: {undeclared}"


def test_the_check_reads_every_way_a_code_is_raised() -> None:
    """The reader itself: literal codes, table members, refusals from below, and computed codes."""
    source = """
raise BadInput("x", "LITERAL", "zh", "en")
raise BadInput("x", LedgerErrorCode.MEMBER)
refusal = check_delegation(access, grantee="a", role=role, jurisdiction_path="53")
raise BadInput("x", code, "zh", "en")
"""
    codes, computed = raised_codes(ast.parse(source))
    assert codes == {"LITERAL", "MEMBER", *get_args(DelegationRefusal)}
    assert computed == [5]


def test_the_readme_lists_every_code_as_its_table_has_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.find(README_BEGIN), readme.find(README_END)
    assert 0 <= start < end, "README.md has no error-code section"
    assert readme[start : end + len(README_END)] == codes_markdown(), "run `uv run baoxue export-schema`"
