"""How many ``Any`` netwire's annotations hold, per 1,000 code lines.

A loose ``Any`` in a signature switches the type checker off for every caller, so the density is
watched: tests/typing/test_any_density.py fails when it rises above the threshold reached.
Counted: the ``Any`` names (``Any`` or ``typing.Any``) inside annotations (parameters, returns,
annotated assignments) and in type aliases written as strings; lines: non-blank lines that are
not comments, over every ``.py`` file under ``src/netwire``.

    python scripts/count_any.py            # the total, then the ten densest files
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "netwire"


def _any_in(node: ast.AST | None) -> int:
    if node is None:
        return 0
    count = 0
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Name) and sub.id == "Any") or (isinstance(sub, ast.Attribute) and sub.attr == "Any"):
            count += 1
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            count += _any_in_string(sub.value)  # a quoted annotation
    return count


def _any_in_string(text: str) -> int:
    try:
        return _any_in(ast.parse(text, mode="eval"))
    except SyntaxError:
        return 0


def count_file(path: Path) -> tuple[int, int]:
    """(Any in annotations, code lines) of one file."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    anys = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None:
                    anys += _any_in(arg.annotation)
            anys += _any_in(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotation = node.annotation
            anys += _any_in(annotation)
            is_alias = isinstance(annotation, ast.Name) and annotation.id == "TypeAlias"
            if is_alias and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                anys += _any_in_string(node.value.value)
    comment_only: set[int] = set()
    code_rows: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comment_only.add(tok.start[0])
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            for row in range(tok.start[0], tok.end[0] + 1):
                code_rows.add(row)
    return anys, len(code_rows)


def density(root: Path = ROOT) -> tuple[float, dict[str, tuple[int, int]]]:
    """``Any`` per 1,000 code lines over ``root``, and the (anys, lines) of each file."""
    per_file = {str(p.relative_to(root)): count_file(p) for p in sorted(root.rglob("*.py"))}
    anys = sum(a for a, _ in per_file.values())
    lines = sum(n for _, n in per_file.values())
    return 1000.0 * anys / max(lines, 1), per_file


def main() -> int:
    value, per_file = density()
    anys = sum(a for a, _ in per_file.values())
    lines = sum(n for _, n in per_file.values())
    print(f"{value:.1f} Any per 1k code lines ({anys} in {lines} lines)")
    worst = sorted(per_file.items(), key=lambda kv: -kv[1][0])[:10]
    for name, (a, n) in worst:
        print(f"  {a:4d} {1000.0 * a / max(n, 1):6.1f}/1k  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
