#!/usr/bin/env python3
"""Every translation in po/LINGUAS stays complete and sound.

    check-catalogues.py [--self-test] [--po-dir po] [--template po/vmnet-doctor.pot]

The template must be fresh (`meson compile -C _build vmnet-doctor-pot`,
which tools/test-all.sh runs first). For each language it fails when a
message of the template is missing, untranslated or fuzzy; when a
translation loses or invents a placeholder ({vm}, {count}…), the leading
space of a fragment, a line break, or the mnemonic underscore of a label;
and when msgfmt --check refuses the file (header, Plural-Forms).
--self-test first breaks a copy of each catalogue in each of these ways
and requires every break to be caught.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
# A mnemonic: an underscore before a letter, at the start or inside a word
# of a label ("_Apply", "C_opy Commands"); not snake_case words (guest_agent).
MNEMONIC = re.compile(r"(?<![A-Za-z0-9_.])_[^\W_]|(?<=[A-Za-z])_[^\W_](?=[a-z]*\b)")


def unquote(text):
    return text[1:-1]


def parse(path):
    """The entries of a PO file: dicts with ctx, id, plural, strs (list), fuzzy, obsolete."""
    entries, cur, field = [], None, None

    def flush():
        nonlocal cur
        if cur is not None and "id" in cur:
            entries.append(cur)
        cur = None

    with open(path, encoding="utf-8") as file:
        for raw in file:
            line = raw.rstrip("\n")
            if not line.strip():
                flush()
                continue
            if cur is None:
                cur = {"strs": {}, "fuzzy": False, "obsolete": False}
            if line.startswith("#~"):
                cur["obsolete"] = True
                continue
            if line.startswith("#,"):
                cur["fuzzy"] |= "fuzzy" in [flag.strip() for flag in line[2:].split(",")]
                continue
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
            if match:
                keyword, text = match.group(1), unquote(match.group(3))
                if keyword == "msgctxt":
                    field = "ctx"
                elif keyword == "msgid":
                    field = "id"
                elif keyword == "msgid_plural":
                    field = "plural"
                else:
                    field = int(match.group(2) or 0)
                    cur["strs"][field] = text
                    continue
                cur[field] = text
            elif line.startswith('"') and field is not None:
                if isinstance(field, int):
                    cur["strs"][field] += unquote(line)
                else:
                    cur[field] += unquote(line)
    flush()
    return entries


def key(entry):
    return (entry.get("ctx"), entry["id"])


def check_language(lang, po_path, template):
    problems = []
    catalogue = {key(e): e for e in parse(po_path) if not e["obsolete"] and e["id"]}
    for msg in parse(template):
        if not msg["id"]:
            continue
        where = f"{os.path.basename(po_path)}: “{msg['id'][:70]}”"
        entry = catalogue.get(key(msg))
        if entry is None:
            problems.append(f"{where}: missing (run meson compile -C _build vmnet-doctor-update-po)")
            continue
        if entry["fuzzy"]:
            problems.append(f"{where}: fuzzy")
        forms = [entry["strs"][i] for i in sorted(entry["strs"])]
        if not forms or any(not form for form in forms):
            problems.append(f"{where}: untranslated")
            continue
        if "plural" in msg and len(forms) < 2:
            problems.append(f"{where}: a plural message with {len(forms)} form")
        source = set(PLACEHOLDER.findall(msg["id"])) | set(PLACEHOLDER.findall(msg.get("plural", "")))
        for index, form in enumerate(forms):
            found = set(PLACEHOLDER.findall(form))
            # A singular form may leave out the number ("One step failed.").
            allowed_missing = "plural" in msg and index == 0
            if found - source or (not allowed_missing and source - found):
                problems.append(f"{where}: placeholders {sorted(found)} instead of {sorted(source)}")
            if msg["id"].startswith(" ") != form.startswith(" "):
                problems.append(f"{where}: the leading space differs")
            if msg["id"].count("\\n") != form.count("\\n"):
                problems.append(f"{where}: {form.count(chr(92) + 'n')} line breaks instead of {msg['id'].count(chr(92) + 'n')}")
            wanted = len(MNEMONIC.findall(msg["id"]))
            if wanted and len(MNEMONIC.findall(form)) != wanted:
                problems.append(f"{where}: needs {wanted} underscore(s) before a letter (a mnemonic), has “{form}”")
    check = subprocess.run(["msgfmt", "--check", "-o", os.devnull, po_path], capture_output=True, text=True)
    if check.returncode != 0:
        problems.append(f"{os.path.basename(po_path)}: msgfmt --check: {check.stderr.strip()}")
    with open(po_path, encoding="utf-8") as file:
        header = file.read(4000)
    if f'"Language: {lang}\\n"' not in header:
        problems.append(f"{os.path.basename(po_path)}: the header does not say Language: {lang}")
    return problems


def languages(po_dir):
    with open(os.path.join(po_dir, "LINGUAS"), encoding="utf-8") as file:
        return [word for line in file for word in line.split("#", 1)[0].split()]


def check(po_dir, template):
    langs = languages(po_dir)
    problems = []
    for lang in langs:
        problems += check_language(lang, os.path.join(po_dir, f"{lang}.po"), template)
    return langs, problems


def self_test(po_dir, template):
    """Break a copy of each catalogue in each way; each break must be caught."""
    failures = 0
    for lang in languages(po_dir):
        with open(os.path.join(po_dir, f"{lang}.po"), encoding="utf-8") as file:
            text = file.read()
        plain = re.search(r'\nmsgid "([^"\n]*\{vm\}[^"\n]*)"\nmsgstr "([^"\n]*\{vm\}[^"\n]*)"\n', text)
        mnemonic = re.search(r'\nmsgid "(_Apply|_Cancel)"\nmsgstr "([^"\n]+)"\n', text)
        plural = re.search(r'\nmsgstr\[1\] "([^"\n]+)"\n', text)
        breaks = {
            "an untranslated message": text.replace(plain.group(0), f'\nmsgid "{plain.group(1)}"\nmsgstr ""\n', 1),
            "a missing message": text.replace(plain.group(0), "\n", 1),
            "a fuzzy message": text.replace(plain.group(0), "\n#, fuzzy" + plain.group(0), 1),
            "a lost placeholder": text.replace(
                plain.group(0), f'\nmsgid "{plain.group(1)}"\nmsgstr "{plain.group(2).replace("{vm}", "VM")}"\n', 1),
            "a lost mnemonic": text.replace(mnemonic.group(0), mnemonic.group(0).replace('msgstr "_', 'msgstr "'), 1),
            "an empty plural form": text.replace(plural.group(0), '\nmsgstr[1] ""\n', 1),
            "a wrong Plural-Forms": re.sub(r'"Plural-Forms: [^"]*"', r'"Plural-Forms: nplurals=2; plural=(n != 1;\\n"', text, count=1),
        }
        with tempfile.TemporaryDirectory() as work:
            shutil.copy(os.path.join(po_dir, "LINGUAS"), work)
            for what, broken in breaks.items():
                if broken == text:
                    print(f"FAIL self-test ({lang}): could not make {what}")
                    failures += 1
                    continue
                with open(os.path.join(work, f"{lang}.po"), "w", encoding="utf-8") as file:
                    file.write(broken)
                _, problems = check(work, template)
                if problems:
                    print(f"ok:   self-test ({lang}): {what} is caught: {problems[0]}")
                else:
                    print(f"FAIL self-test ({lang}): {what} was not caught")
                    failures += 1
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--po-dir", default="po")
    parser.add_argument("--template", default="po/vmnet-doctor.pot")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(args.template):
        print(f"no template at {args.template}: run meson compile -C _build vmnet-doctor-pot", file=sys.stderr)
        return 1
    failures = self_test(args.po_dir, args.template) if args.self_test else 0
    langs, problems = check(args.po_dir, args.template)
    if not langs:
        print("po/LINGUAS lists no language", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"FAIL {problem}")
    count = sum(1 for e in parse(args.template) if e["id"])
    if not problems:
        print(f"ok:   {', '.join(langs)}: all {count} messages of the template translated, none fuzzy")
    return 1 if problems or failures else 0


if __name__ == "__main__":
    sys.exit(main())
