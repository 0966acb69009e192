"""How long hostile documents take to be refused, before and after the linear limits (issue 13 §3).

    uv run python -m bench.limits

"Before" is the previous validation: graphql-core's rules with their default field-merging budget,
strawberry's QueryDepthLimiter and MaxAliasesLimiter, and the cost rule without memoised fragments
(copied below). "After" runs the production schema's `execute` (parse, limits, validation: nothing
reaches a resolver), with a 1 ms ticker on the same event loop recording its longest stall. No database.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from schema.limits import _multiplier
from schema.root import build_schema


def fan_out(k: int) -> str:
    parts = [f"query FanOut {{ ...F{k} }}", "fragment F0 on Query { __typename }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, k + 1)]
    return "\n".join(parts)


def repeated_fields(n: int) -> str:
    return "{" + " ".join(["viewer { username }"] * n) + "}"


def _old_cost(selection_set: SelectionSetNode | None, fragments: dict[str, Any], seen: frozenset[str]) -> int:
    """The cost rule as it was: every spread walked again."""
    if selection_set is None:
        return 0
    total = 0
    for s in selection_set.selections:
        if isinstance(s, FieldNode):
            total += 1 + _multiplier(s) * _old_cost(s.selection_set, fragments, seen)
        elif isinstance(s, InlineFragmentNode):
            total += _old_cost(s.selection_set, fragments, seen)
        elif isinstance(s, FragmentSpreadNode) and s.name.value not in seen and s.name.value in fragments:
            total += _old_cost(fragments[s.name.value].selection_set, fragments, seen | {s.name.value})
    return total


class OldCostLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        document = self.context.document
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        if _old_cost(node.selection_set, fragments, frozenset()) > 10000:
            self.report_error(GraphQLError("query cost exceeds the limit", node))


BEFORE_RULES = [
    *specified_rules,
    *QueryDepthLimiter(max_depth=10).validation_rules,
    *MaxAliasesLimiter(max_alias_count=15).validation_rules,
    OldCostLimit,
]


def before_ms(document: str) -> float:
    started = time.perf_counter()
    validate(build_schema(production=True)._schema, parse(document, max_tokens=2000), BEFORE_RULES)
    return (time.perf_counter() - started) * 1000


async def after_ms(document: str) -> tuple[float, float, list[str]]:
    """Refusal time through the production schema, and the event loop's longest stall meanwhile."""
    schema = build_schema(production=True)
    stall = 0.0
    running = True

    async def ticker() -> None:
        nonlocal stall
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stall = max(stall, now - last - 0.001)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    result = await schema.execute(document)
    elapsed = (time.perf_counter() - started) * 1000
    running = False
    await tick
    codes = [str((e.extensions or {}).get("code")) for e in result.errors or []]
    return elapsed, stall * 1000, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before-max-k", type=int, default=20, help="largest k run the old way (2^k walks)")
    args = parser.parse_args()
    cases: list[tuple[str, str, int]] = [(f"fan-out k={k}", fan_out(k), k) for k in (10, 20, 40)]
    cases.append(("495 × `viewer { username }`", repeated_fields(495), 0))
    print("| document | tokens | before: validation ms | after: refusal ms | after: longest loop stall ms | code |")
    print("|---|---:|---:|---:|---:|---|")
    run: Callable[[str], float] = before_ms
    for name, document, k in cases:
        tokens = len(document.replace("{", " { ").replace("}", " } ").replace("...", " ... ").split())
        before = f"{run(document):.1f}" if k <= args.before_max_k else f"not run (2^{k} walks)"
        after = [asyncio.run(after_ms(document)) for _ in range(5)]
        best = min(after)
        code = best[2][0] if best[2] else "accepted (within the limits)"
        print(f"| {name} | {tokens} | {before} | {best[0]:.1f} | {max(a[1] for a in after):.1f} | {code} |")


if __name__ == "__main__":
    main()
