#!/usr/bin/env bash
# The German translation as a user with LANG=de_DE.UTF-8 gets it: the CLI's
# `check` and `--help`, plural forms, the merged desktop file, metainfo and
# polkit policy of the build, and a screenshot of the window
# (target/gui/german-vm.png).
#
#   german.sh [BUILD_DIR [BINARY]]
#
# The catalogue is the build's own (BUILD_DIR/po/de/LC_MESSAGES), given to
# the uninstalled BINARY through VMNET_DOCTOR_LOCALEDIR_OVERRIDE.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-_build} binary=${2:-target/debug/vmnet-doctor}
failures=0
ok() { printf 'ok:   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }

catalogue=$build/po/de/LC_MESSAGES/vmnet-doctor.mo
[[ -f $catalogue ]] || { echo "no $catalogue: is de in po/LINGUAS, and was $build compiled?" >&2; exit 1; }
[[ $catalogue -nt po/de.po ]] || { echo "$catalogue is older than po/de.po: meson compile -C $build" >&2; exit 1; }
# meson's i18n.merge_file does not depend on the .po files: a build
# directory made before the last change to po/de.po keeps the old merged
# data files. Those are made again here (as the README tells translators).
stale=()
for merged in "$build"/data/*.desktop "$build"/data/*.metainfo.xml "$build"/data/helper/*.policy; do
    [[ $merged -nt po/de.po ]] || stale+=("$merged")
done
if [[ ${#stale[@]} -gt 0 ]]; then
    echo "merged before the last change to po/de.po, made again: ${stale[*]}"
    rm -f "${stale[@]}"
    meson compile -C "$build" >/dev/null
fi
work=target/i18n-test/german
rm -rf "$work"
mkdir -p "$work"
locpath=$(tests/i18n/make-locale.sh "$PWD/$work/locale" de_DE.UTF-8)
german=(LANG=de_DE.UTF-8 VMNET_DOCTOR_LOCALEDIR_OVERRIDE="$PWD/$build/po" ${locpath:+LOCPATH="$locpath"})
run_de() { env -i PATH="$PATH" HOME="$PWD/$work" "${german[@]}" "$@"; }

# Contains each German line, and none of the English ones.
expect_text() {
    local what=$1 file=$2
    shift 2
    local missing=() english=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --not) grep -qF -- "$2" "$file" && english+=("$2"); shift 2 ;;
            *) grep -qF -- "$1" "$file" || missing+=("$1"); shift ;;
        esac
    done
    if [[ ${#missing[@]} -eq 0 && ${#english[@]} -eq 0 ]]; then
        ok "$what"
    else
        fail "$what: missing ${missing[*]+"${missing[*]}"}; still English: ${english[*]+"${english[*]}"}"
        head -n 30 "$file" | sed 's/^/      /'
    fi
}

status=0
run_de "$binary" check --demo >"$work/check.txt" 2>&1 || status=$?
[[ $status -eq 1 ]] && ok "check --demo exits with 1 (errors found)" || fail "check --demo exited with $status, not 1"
expect_text "check --demo speaks German" "$work/check.txt" \
    "Das Host-Netzwerk der Demo ist die Aufzeichnung eines echten Hosts" \
    "Fehler (8)" \
    "Das Netzwerk „lab-nat“ läuft nicht" \
    "→ Das virtuelle Netzwerk „lab-nat“ starten" \
    --not "Errors (" --not "is not running" --not "The demo's host network"

status=0
run_de "$binary" check --demo --vm kali-linux >"$work/check-vm.txt" 2>&1 || status=$?
expect_text "check --demo --vm kali-linux speaks German" "$work/check-vm.txt" \
    "Die Netzwerkkarte 52:54:00:9d:5c:34 hängt am gestoppten Netzwerk „lab-nat“" \
    --not "Network card 52:54:00:9d:5c:34"

run_de "$binary" --help >"$work/help.txt" 2>&1 || true
expect_text "--help speaks German" "$work/help.txt" "Aufruf:" "Optionen:" "diese Hilfe anzeigen" \
    --not "Usage:" --not "show this help"

# Plural forms, through the catalogue itself: German has one form for 1
# and one for everything else, 0 included.
plural() { run_de TEXTDOMAINDIR="$PWD/$build/po" ngettext -d vmnet-doctor "{n} network card" "{n} network cards" "$1"; }
for n_form in "1:{n} Netzwerkkarte" "0:{n} Netzwerkkarten" "2:{n} Netzwerkkarten" "21:{n} Netzwerkkarten"; do
    n=${n_form%%:*} want=${n_form#*:}
    got=$(plural "$n")
    [[ $got == "$want" ]] && ok "plural for $n: $got" || fail "plural for $n: “$got”, not “$want”"
done

# What the build merged from de.po into the installed data files.
desktop=$(ls "$build"/data/*.desktop)
expect_text "desktop file in German" "$desktop" \
    "Comment[de]=Finden und beheben, warum eine virtuelle Maschine kein Netzwerk hat" \
    "GenericName[de]=Netzwerk-Fehlerbehebung für virtuelle Maschinen" "Keywords[de]=virt-manager;"
metainfo=$(ls "$build"/data/*.metainfo.xml)
expect_text "metainfo in German" "$metainfo" \
    '<summary xml:lang="de">Finden und beheben, warum eine virtuelle Maschine kein Netzwerk hat</summary>' \
    '<caption xml:lang="de">Der Host: seine virtuellen Netzwerke'
expect_text "polkit policy in German" "$build/data/helper/io.github.vmnetdoctor.policy" \
    '<description xml:lang="de">Die Host-Firewall für virtuelle Maschinen ändern</description>' \
    '<message xml:lang="de">Legitimierung ist erforderlich, um die IP-Weiterleitung einzuschalten'

# The window in German, a VM with problems selected (kept for review).
args=()
for assignment in "${german[@]}"; do args+=(--env "$assignment"); done
if env GSETTINGS_SCHEMA_DIR="$PWD/$build/data" tests/gui/screenshot.sh "$binary" target/gui/german-vm.png \
    "${args[@]}" -- --demo --vm kali-linux >"$work/screenshot.log" 2>&1; then
    ok "screenshot of the window in German: target/gui/german-vm.png"
else
    fail "the screenshot in German:"; sed 's/^/      /' "$work/screenshot.log"
fi

[[ $failures -eq 0 ]] || { echo "german: $failures failed" >&2; exit 1; }
echo "german: all passed"
