#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a circle.

For each crate (src/ and crates/*/src/), every path that starts with
`crate::` or `super::` (in `use` lines, grouped `use a::{b, c}` included,
and in code) and every path through a name a `use` bound to a module, is
an edge from the file's module to the module the path names. Edges are
compared between siblings: `ui::window::connection` using `ui::fix_dialog`
is `window -> fix_dialog` inside `ui`; a module using its own parent or
child is not an edge. A circle among siblings (A -> B -> ... -> A) fails,
listing the lines that make it, unless KNOWN lists it; so does a use that
FORBIDDEN forbids (the GUI using the command line's modules).

Comments, string literals and `#[cfg(test)]` modules are not read.
`#[path]` attributes are not followed (src/ has none).

    tools/check-module-cycles.py [--root DIR] [--self-test]

Standard library only.
"""

from __future__ import annotations

import argparse
import bisect
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# (crate directory, user, used, why): `user` must not use `used`.
FORBIDDEN = [
    ("src", ("ui",), ("cli",), "the GUI does not depend on the command line"),
]

# Circles known and not yet removed: (crate directory, its modules). Each is
# printed, not failed; one that is gone fails until it is taken off here.
KNOWN: list[tuple[str, set[tuple[str, ...]]]] = []

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|::|[{},;*]|.", re.S)


def strip_source(text: str) -> str:
    """Blanks comments, string and char literals; keeps line numbers."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(text, i)) and (
            i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            end = text.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(' ""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(' ""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == "'" and (m := re.compile(r"'(\\.[^']*|[^\\'])'").match(text, i)):
            out.append(" ' ")  # a char literal; a lifetime is left alone
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_test_modules(text: str) -> str:
    """Blanks `#[cfg(test)] mod name { ... }` bodies (text already stripped)."""
    for m in reversed(list(re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", text))):
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        text = text[: m.start()] + "\n" * text.count("\n", m.start(), j) + text[j:]
    return text


@dataclass
class Crate:
    root: Path  # the crate's src/ directory
    modules: dict[tuple[str, ...], Path] = field(default_factory=dict)

    def resolve(self, path: tuple[str, ...]) -> tuple[str, ...] | None:
        """The longest prefix of `path` that is one of the crate's modules."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.modules:
                return path[:k]
        return None


def module_of(src: Path, file: Path) -> tuple[str, ...] | None:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts in (["main"], ["lib"]):
        return ()
    if parts[-1] == "mod":
        parts.pop()
    if "bin" in parts[:1] or "tests" in parts:
        return None
    return tuple(parts)


def paths_in(text: str):
    """Yields (line, segments, in a use, bound name) for each path that may name a module."""
    starts = [m.start() for m in re.finditer("\n", text)]
    tokens = [
        (m.group(), bisect.bisect_right(starts, m.start()) + 1)
        for m in TOKEN.finditer(text)
        if not m.group().isspace()
    ]

    def tree(i: int, prefix: tuple[str, ...], in_use: bool):
        """Yields the paths of the tree at tokens[i]; returns the index after it."""
        segs = list(prefix)
        line = tokens[i][1] if i < len(tokens) else 0
        while i < len(tokens):
            tok = tokens[i][0]
            if re.fullmatch(r"[A-Za-z_]\w*", tok):
                segs.append(tok)
                i += 1
                if i < len(tokens) and tokens[i][0] == "::":
                    i += 1
                    continue
                break
            if tok == "{":
                i += 1
                while i < len(tokens) and tokens[i][0] != "}":
                    if tokens[i][0] == ",":
                        i += 1
                        continue
                    end = yield from tree(i, tuple(segs), in_use)
                    i = max(end, i + 1)
                i += 1
                return i
            if tok == "*":
                i += 1
            break
        name = segs[-1] if segs else ""
        if i + 1 < len(tokens) and tokens[i][0] == "as":
            name, i = tokens[i + 1][0], i + 2
        yield line, tuple(segs), in_use, name
        return i

    i = 0
    while i < len(tokens):
        tok = tokens[i][0]
        prev = tokens[i - 1][0] if i else ""
        if tok in ("crate", "super") and i + 1 < len(tokens) and tokens[i + 1][0] == "::" and prev != "::":
            i = yield from tree(i, (), prev == "use")
        elif prev == "use" and re.fullmatch(r"[A-Za-z_]\w*", tok):
            i = yield from tree(i, (), True)
        elif re.fullmatch(r"[A-Za-z_]\w*", tok) and prev != "::" and i + 1 < len(tokens) and tokens[i + 1][0] == "::":
            i = yield from tree(i, (), False)
        else:
            i += 1


def absolute(module: tuple[str, ...], segs: tuple[str, ...], aliases: dict[str, tuple[str, ...]], crate: Crate):
    """The crate-absolute path of `segs` written in `module`, or None."""
    if not segs:
        return None
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("super", "self"):
        base = list(module)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                if not base:
                    return None
                base.pop()
            segs = segs[1:]
        return tuple(base) + segs
    if segs[0] in aliases:
        return aliases[segs[0]] + segs[1:]
    if module == () and (segs[0],) in crate.modules:
        return segs  # the crate root names its modules directly
    if module + (segs[0],) in crate.modules:
        return module + segs  # a child module by its own name
    return None


@dataclass
class Edge:
    src: tuple[str, ...]
    dst: tuple[str, ...]
    where: str


def crate_edges(crate: Crate) -> list[Edge]:
    edges: list[Edge] = []
    for module, file in sorted(crate.modules.items()):
        text = drop_test_modules(strip_source(file.read_text(encoding="utf-8")))
        found = list(paths_in(text))
        aliases: dict[str, tuple[str, ...]] = {}
        for _line, segs, is_use, name in found:
            if is_use and segs[0] in ("crate", "super", "self"):
                target = absolute(module, segs, {}, crate)
                if target and target[-1] == "self":
                    target = target[:-1]
                    name = target[-1] if name == "self" and target else name
                if target and target in crate.modules:
                    aliases[name] = target
        for line, segs, _is_use, _name in found:
            target = absolute(module, segs, aliases, crate)
            target = crate.resolve(target) if target else None
            if target is None:
                continue
            common = 0
            while common < min(len(module), len(target)) and module[common] == target[common]:
                common += 1
            if common == len(module) or common == len(target):
                continue  # its own parent or child
            rel = file.relative_to(crate.root.parent)
            edges.append(Edge(module[: common + 1], target[: common + 1], f"{rel}:{line}: {'::'.join(segs)}"))
    return edges


def cycles(edges: list[Edge]) -> list[list[tuple[str, ...]]]:
    """Strongly connected components with more than one module (Tarjan)."""
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for e in edges:
        graph.setdefault(e.src, set()).add(e.dst)
        graph.setdefault(e.dst, set())
    index: dict = {}
    low: dict = {}
    stack: list = []
    on: set = set()
    found: list = []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def crates_under(root: Path) -> list[Crate]:
    dirs = [root / "src"] + sorted(p / "src" for p in (root / "crates").glob("*") if (p / "src").is_dir())
    result = []
    for src in dirs:
        if not src.is_dir():
            continue
        crate = Crate(src)
        for file in sorted(src.rglob("*.rs")):
            module = module_of(src, file)
            if module is not None:
                crate.modules[module] = file
        result.append(crate)
    return result


def check(root: Path, known: list | None = None) -> list[str]:
    known = KNOWN if known is None else known
    problems = []
    for crate in crates_under(root):
        edges = crate_edges(crate)
        name = crate.root.relative_to(root).as_posix()
        found = cycles(edges)
        for comp in found:
            members = set(comp)
            shown = " <-> ".join("::".join(m) or "crate" for m in comp)
            if (name, members) in known:
                print(f"{name}: known circle, not yet removed: {shown}")
                continue
            lines = [f"{name}: modules import each other in a circle: {shown}"]
            for e in edges:
                if e.src in members and e.dst in members:
                    lines.append(f"    {'::'.join(e.src)} -> {'::'.join(e.dst)}  ({e.where})")
            problems.append("\n".join(lines))
        for crate_dir, members in known:
            if crate_dir == name and not any(set(comp) == members for comp in found):
                shown = " <-> ".join("::".join(m) for m in sorted(members))
                problems.append(f"{name}: the circle {shown} is gone: take it off KNOWN in {Path(__file__).name}")
        for crate_dir, user, used, why in FORBIDDEN:
            if name != crate_dir:
                continue
            for e in edges:
                if e.src[: len(user)] == user and e.dst[: len(used)] == used:
                    problems.append(f"{name}: {'::'.join(user)} must not use {'::'.join(used)} ({why}): {e.where}")
    return problems


def self_test() -> None:
    files = {
        "src/main.rs": "mod a;\nmod b;\nmod ui;\nmod cli;\nfn main() { a::f(); }\n",
        "src/a.rs": "use crate::{b::{self, G}, ui};\npub fn f() { ui::w::g(); }\n",
        "src/b.rs": '//! uses crate::a in a comment\nconst S: &str = "crate::a::f";\n'
        "#[cfg(test)]\nmod tests { use crate::a; }\npub struct G;\n",
        "src/ui/mod.rs": "pub mod w;\npub mod d;\n",
        "src/ui/w/mod.rs": "mod c;\npub fn g() {}\n",
        "src/ui/w/c.rs": "use super::super::d;\nfn h() { d::x(); }\n",
        "src/ui/d.rs": "pub fn x() { crate::ui::w::g(); }\n",
        "src/cli.rs": "pub struct O;\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        problems = check(root, [])
        assert len(problems) == 1 and "ui::d <-> ui::w" in problems[0], problems
        (root / "src/ui/d.rs").write_text("pub fn x() {}\n")
        assert check(root, []) == [], check(root, [])
        (root / "src/b.rs").write_text("pub struct G;\npub fn k() { crate::a::f(); }\n")
        problems = check(root, [])
        assert len(problems) == 1 and "a <-> b" in problems[0], problems
        (root / "src/b.rs").write_text("pub struct G;\n")
        (root / "src/ui/d.rs").write_text("use crate::cli::O;\n")
        problems = check(root, [])
        assert len(problems) == 1 and "ui must not use cli" in problems[0], problems
        (root / "src/ui/d.rs").write_text("pub fn x() {}\n")
        problems = check(root, [("src", {("a",), ("b",)})])
        assert len(problems) == 1 and "a <-> b is gone" in problems[0], problems
    print("check-module-cycles.py: self-test passed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return 0
    problems = check(args.root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-module-cycles.py: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check-module-cycles.py: no new circles between modules, and the GUI does not use the CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
