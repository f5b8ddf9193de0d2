#!/usr/bin/env python3
"""A pseudo-translation of every message, about 40 % longer, for layout tests.

    pseudo-locale.py TEMPLATE LOCALEDIR [--lang en_XA]

Writes LOCALEDIR/LANG/LC_MESSAGES/vmnet-doctor.mo (and .po beside it): each
message with its letters accented (“Nétŵöŕķ Ćåŕð”), wrapped in ⟦ ⟧ so a cut
end shows, and padded with words of ẋ to about 1.4 times its length, as long
German or Finnish text is. Placeholders ({vm}), escapes (\\n), the mnemonic
underscore and leading or trailing spaces stay as they are. `pseudo(text)`
is the same transformation, for tests that look for a translated label.
"""
import argparse
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
check_catalogues = __import__("check-catalogues")

ACCENTS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀćđéƒĝĥîĵķĺɱñöƥʠŕšţûʋŵẋýžÅƁĆĐÉƑĜĤÎĴĶĹṀÑÖƤɊŔŠŢÛṼŴẊÝŽ",
)
# Kept as they are: placeholders, C escapes of the PO file.
KEEP = re.compile(r"\{[a-z_0-9]*\}|\\.")
GROWTH = 0.4
# The product's name stays a name (the window's title, which tests find it by).
UNTOUCHED = {"VM Network Doctor"}


def accent(text):
    parts, last = [], 0
    for match in KEEP.finditer(text):
        parts.append(text[last:match.start()].translate(ACCENTS))
        parts.append(match.group(0))
        last = match.end()
    parts.append(text[last:].translate(ACCENTS))
    return "".join(parts)


def visible_length(text):
    return len(KEEP.sub("x", text))


def pseudo(text, escaped=False):
    """TEXT pseudo-translated; ESCAPED when TEXT is as written in a PO file."""
    if not escaped:
        text = text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    core = text.strip(" ")
    if not core or core in UNTOUCHED:
        return text if escaped else text.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
    lead = text[:len(text) - len(text.lstrip(" "))]
    trail = text[len(text.rstrip(" ")):]
    extra = max(0, math.ceil(visible_length(core) * GROWTH) - 2)  # the brackets count
    padding = ""
    while len(padding) < extra:
        left = extra - len(padding)
        padding += "ẋ" if left == 1 else " " + "ẋ" * min(6, left - 1)
    result = f"{lead}⟦{accent(core)}{padding}⟧{trail}"
    if not escaped:
        result = result.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("template")
    parser.add_argument("localedir")
    parser.add_argument("--lang", default="en_XA")
    args = parser.parse_args()
    out_dir = os.path.join(args.localedir, args.lang, "LC_MESSAGES")
    os.makedirs(out_dir, exist_ok=True)
    lines = [
        'msgid ""', 'msgstr ""',
        '"Project-Id-Version: vmnet-doctor\\n"', '"PO-Revision-Date: 2026-12-06 00:00+0000\\n"',
        '"Last-Translator: tests/i18n/pseudo-locale.py\\n"', '"Language-Team: none\\n"',
        '"MIME-Version: 1.0\\n"', '"Content-Transfer-Encoding: 8bit\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        f'"Language: {args.lang}\\n"',
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"', "",
    ]
    count = 0
    for entry in check_catalogues.parse(args.template):
        if not entry["id"]:
            continue
        if "ctx" in entry:
            lines.append(f'msgctxt "{entry["ctx"]}"')
        lines.append(f'msgid "{entry["id"]}"')
        if "plural" in entry:
            lines.append(f'msgid_plural "{entry["plural"]}"')
            lines.append(f'msgstr[0] "{pseudo(entry["id"], escaped=True)}"')
            lines.append(f'msgstr[1] "{pseudo(entry["plural"], escaped=True)}"')
        else:
            lines.append(f'msgstr "{pseudo(entry["id"], escaped=True)}"')
        lines.append("")
        count += 1
    po_path = os.path.join(out_dir, "vmnet-doctor.po")
    with open(po_path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    subprocess.run(["msgfmt", "--check", "-o", os.path.join(out_dir, "vmnet-doctor.mo"), po_path], check=True)
    print(f"pseudo-locale: {count} messages, about {int(GROWTH * 100)} % longer, in {out_dir}")


if __name__ == "__main__":
    main()
