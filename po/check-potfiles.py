#!/usr/bin/env python3
"""Checks that po/POTFILES.in and the source tree agree.

It fails, listing what to fix, when
  * a Rust (.rs) or GtkBuilder (.ui) file under src/ or crates/ holds a
    translatable string but is not listed in po/POTFILES.in (files in
    `tests/` directories are skipped: they are never shown to users);
  * po/POTFILES.in lists a file that does not exist;
  * with --xgettext: xgettext would not extract a translatable Rust string
    exactly as the program asks for it at run time. gettext 0.23 (Debian 13)
    has no Rust parser and reads .rs files as C, which loses a call that
    follows a lifetime on the same line and keeps `\\u{…}` escapes and the
    indentation after a `\\` line continuation. Such a string would never
    be translated, silently.

A translatable call is a call of one of KEYWORDS whose arguments are string
literals. Mentions in comments and in string literals do not count;
definitions (`fn gettext_f(`) do not count.

    check-potfiles.py [--root DIR] [--xgettext PATH]
    check-potfiles.py --print-keywords     # the xgettext --keyword arguments

Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# name -> (context argument, singular argument, plural argument), 1-based
# like xgettext's --keyword=NAME:1c,2,3. The first four are xgettext's
# defaults for C; the others are the helpers a Rust GUI tends to grow.
KEYWORDS: dict[str, tuple[int | None, int, int | None]] = {
    "gettext": (None, 1, None),
    "ngettext": (None, 1, 2),
    "pgettext": (1, 2, None),
    "npgettext": (1, 2, 3),
    "gettext_f": (None, 1, None),
    "ngettext_f": (None, 1, 2),
    "pgettext_f": (1, 2, None),
    "i18n": (None, 1, None),
    "i18n_f": (None, 1, None),
    "ni18n_f": (None, 1, 2),
}

SCANNED_DIRS = ("src", "crates")
SKIPPED_DIR_NAMES = {"tests", "target", "node_modules"}
UI_TRANSLATABLE = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')


def keyword_args() -> list[str]:
    args = []
    for name, (ctx, singular, plural) in KEYWORDS.items():
        spec = [f"{ctx}c"] if ctx else []
        spec.append(str(singular))
        if plural:
            spec.append(str(plural))
        args.append(f"--keyword={name}:{','.join(spec)}")
    return args


# --- a small Rust lexer: enough to tell code from comments and literals ---


@dataclass
class Token:
    kind: str  # ident, str, lifetime, char, punct
    text: str  # identifier / punctuation / literal source text
    line: int
    value: str | None = None  # decoded string literal
    raw: bool = False
    problems: list[str] = field(default_factory=list)


IDENT_START = re.compile(r"[A-Za-z_]")
IDENT = re.compile(r"[A-Za-z0-9_]*")
RAW_PREFIX = re.compile(r"(?:b|c)?r(#*)\"")
SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}


def decode_string(body: str, problems: list[str]) -> str:
    """Decodes the escapes of a (non-raw) Rust string literal body."""
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            if c == "\n":
                problems.append("a line break inside the string")
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in SIMPLE_ESCAPES:
            out.append(SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3 : end].replace("_", ""), 16)))
            problems.append("a \\u{…} escape")
            i = end + 1
        elif nxt == "\n":
            problems.append("a \\ line continuation")
            i += 2
            while i < len(body) and body[i] in " \t\n\r":
                i += 1
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    line = 1
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            i = n if end < 0 else end
        elif src.startswith("/*", i):
            depth = 0
            while i < n:
                if src.startswith("/*", i):
                    depth += 1
                    i += 2
                elif src.startswith("*/", i):
                    depth -= 1
                    i += 2
                    if depth == 0:
                        break
                else:
                    line += src[i] == "\n"
                    i += 1
        elif (m := RAW_PREFIX.match(src, i)) and (i == 0 or not re.match(r"\w", src[i - 1])):
            closing = '"' + m.group(1)
            end = src.find(closing, m.end())
            end = n if end < 0 else end
            body = src[m.end() : end]
            tokens.append(Token("str", src[i : end + len(closing)], line, body, raw=True))
            line += body.count("\n")
            i = end + len(closing)
        elif c == '"' or (c in "bc" and src.startswith('"', i + 1)):
            start = i
            i += 1 if c == '"' else 2
            body_start = i
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            body = src[body_start:i]
            i += 1
            problems: list[str] = []
            value = decode_string(body, problems)
            tokens.append(Token("str", src[start:i], line, value, problems=problems))
            line += body.count("\n")
        elif c == "'" or (c == "b" and src.startswith("'", i + 1)):
            start = i
            i += 1 if c == "'" else 2
            if src.startswith("\\", i):  # escaped char literal
                end = src.find("'", i + 2)
                i = end + 1
                tokens.append(Token("char", src[start:i], line))
            elif i + 1 < n and src[i + 1] == "'":  # 'x'
                i += 2
                tokens.append(Token("char", src[start:i], line))
            else:  # a lifetime or a loop label
                m = IDENT.match(src, i)
                i = m.end()
                tokens.append(Token("lifetime", src[start:i], line))
        elif IDENT_START.match(c):
            if src.startswith("r#", i) and IDENT_START.match(src[i + 2 : i + 3] or " "):
                i += 2  # raw identifier
            m = IDENT.match(src, i + 1)
            tokens.append(Token("ident", src[i : m.end()], line))
            i = m.end()
        else:
            tokens.append(Token("punct", c, line))
            i += 1
    return tokens


@dataclass
class Call:
    line: int
    keyword: str
    args: list[list[Token]]

    def literal(self, position: int | None) -> Token | None:
        """The string literal at a 1-based argument position, if it is one."""
        if position is None or position > len(self.args):
            return None
        arg = [t for t in self.args[position - 1] if not (t.kind == "punct" and t.text == "&")]
        return arg[0] if len(arg) == 1 and arg[0].kind == "str" else None


def translatable_calls(tokens: list[Token]) -> list[Call]:
    calls = []
    for k, tok in enumerate(tokens):
        if tok.kind != "ident" or tok.text not in KEYWORDS:
            continue
        if k + 1 >= len(tokens) or tokens[k + 1].text != "(":
            continue
        if k > 0 and tokens[k - 1].kind == "ident" and tokens[k - 1].text == "fn":
            continue  # a definition
        args: list[list[Token]] = [[]]
        depth = 0
        for t in tokens[k + 2 :]:
            if t.kind == "punct" and t.text in "([{":
                depth += 1
            elif t.kind == "punct" and t.text in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif t.kind == "punct" and t.text == "," and depth == 0:
                args.append([])
                continue
            args[-1].append(t)
        if args and not args[-1]:
            args.pop()  # trailing comma
        ctx, singular, _ = KEYWORDS[tok.text]
        call = Call(tok.line, tok.text, args)
        # Only string literals are extracted; gettext(&name) is a run-time lookup.
        if call.literal(singular) and (ctx is None or call.literal(ctx)):
            calls.append(call)
    return calls


# --- xgettext cross-check ---

PO_STRING = re.compile(r'^(msgctxt|msgid|msgid_plural)\s+"(.*)"\s*$|^"(.*)"\s*$')
C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def po_unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: C_ESCAPES.get(m.group(1), "\\" + m.group(1)), s)


def po_entries(text: str) -> set[tuple[str | None, str, str | None]]:
    """(msgctxt, msgid, msgid_plural) of every entry of xgettext's output."""
    entries = set()
    cur: dict[str, str] = {}
    last = None

    def flush() -> None:
        if cur.get("msgid"):
            entries.add((cur.get("msgctxt"), cur["msgid"], cur.get("msgid_plural")))

    for line in text.splitlines() + [""]:
        m = PO_STRING.match(line)
        if not line.strip():
            flush()
            cur, last = {}, None
        elif m and m.group(1):
            last = m.group(1)
            cur[last] = po_unescape(m.group(2))
        elif m and last:
            cur[last] += po_unescape(m.group(3))
        elif not line.startswith("#"):
            last = None  # msgstr and its continuation lines
    return entries


def expected_entry(call: Call) -> tuple[tuple[str | None, str, str | None], list[str]]:
    ctx, singular, plural = KEYWORDS[call.keyword]
    problems: list[str] = []
    values: list[str | None] = []
    for pos in (ctx, singular, plural):
        tok = call.literal(pos)
        if tok is None:
            values.append(None)
            continue
        if tok.raw:
            problems.append("a raw string r\"…\"")
        problems.extend(tok.problems)
        values.append(tok.value)
    return (values[0], values[1] or "", values[2]), problems


HINTS = {
    "a raw string r\"…\"": "write it as a normal \"…\" string",
    "a \\u{…} escape": "write the character itself (the file is UTF-8)",
    "a \\ line continuation": "keep the whole string on one line (rustfmt allows long string lines)",
    "a line break inside the string": "write \\n instead of a line break",
}


def check_extraction(xgettext: str, root: Path, rel: str, calls: list[Call]) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.pot"
        # No --language: xgettext picks the parser from the extension exactly
        # as when it builds the .pot (C for .rs before gettext 0.24).
        proc = subprocess.run(
            [xgettext, "--from-code=UTF-8", "--force-po", "--no-wrap",
             *keyword_args(), "-o", str(out), rel],
            cwd=root, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            return [f"{rel}: xgettext failed:\n{proc.stderr}"]
        found = po_entries(out.read_text(encoding="utf-8"))
    errors = []
    for call in calls:
        entry, problems = expected_entry(call)
        if entry in found:
            continue
        literal = call.literal(KEYWORDS[call.keyword][1])
        text = re.sub(r"\s*\n\s*", " ", literal.text if literal else "")
        source = f"{call.keyword}({text if len(text) <= 90 else text[:87] + '...'}"
        msg = f"{rel}:{call.line}: xgettext does not extract this {call.keyword}() string as written:\n    {source}"
        if problems:
            for p in dict.fromkeys(problems):
                msg += f"\n  it contains {p}: {HINTS[p]}"
        else:
            msg += ("\n  xgettext reads .rs files as C here, and a lifetime ('a) or a char literal"
                    " earlier on the same line hides the rest of the line: put the call on its own line")
        errors.append(msg)
    return errors


# --- the checks ---


def read_potfiles(potfiles: Path) -> list[str]:
    listed = []
    for line in potfiles.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())  # [encoding: …] / [type: …]
        if line and not line.startswith("#"):
            listed.append(line)
    return listed


def scanned_files(root: Path) -> list[str]:
    files = []
    for top in SCANNED_DIRS:
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIR_NAMES and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith((".rs", ".ui")):
                    files.append((Path(dirpath) / name).relative_to(root).as_posix())
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the source tree (default: the one holding this script)")
    parser.add_argument("--xgettext", help="also check that this xgettext extracts every Rust string as written")
    parser.add_argument("--print-keywords", action="store_true",
                        help="print the --keyword arguments for xgettext and exit")
    args = parser.parse_args()

    if args.print_keywords:
        print("\n".join(keyword_args()))
        return 0

    root = args.root.resolve()
    potfiles = root / "po" / "POTFILES.in"
    listed = read_potfiles(potfiles)
    listed_set = set(listed)
    errors = []

    for rel in listed:
        if not (root / rel).is_file():
            errors.append(f"po/POTFILES.in lists {rel}, which does not exist: remove it")

    for rel in scanned_files(root):
        text = (root / rel).read_text(encoding="utf-8")
        if rel.endswith(".ui"):
            if UI_TRANSLATABLE.search(text) and rel not in listed_set:
                errors.append(f"{rel} has translatable strings but is not in po/POTFILES.in: add it")
            continue
        calls = translatable_calls(tokenize(text))
        if not calls:
            continue
        if rel not in listed_set:
            errors.append(f"{rel}:{calls[0].line} calls {calls[0].keyword}() but {rel} is not in po/POTFILES.in: add it")
        if args.xgettext:
            errors.extend(check_extraction(args.xgettext, root, rel, calls))

    if errors:
        print(f"check-potfiles: {len(errors)} problem(s) in {root}:", file=sys.stderr)
        for e in errors:
            print(e, file=sys.stderr)
        return 1
    print(f"check-potfiles: po/POTFILES.in lists {len(listed)} file(s); every translatable string is covered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
