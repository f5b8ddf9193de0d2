#!/usr/bin/env bash
# Makes the locale NAME (e.g. de_DE.UTF-8) usable and prints the LOCPATH
# to run programs with (empty when the system has the locale itself).
#
#   make-locale.sh DIR NAME
#
# The build root has only C.UTF-8 (no `locales` package), and glibc ignores
# LANGUAGE while LC_MESSAGES is C or C.UTF-8, so a test cannot just say
# LANGUAGE=de. In order: the system's own NAME; NAME compiled by localedef
# from the system's locale sources; else C.UTF-8's data under the name NAME
# in DIR. gettext picks the catalogue by that name exactly as for a user with
# LANG=NAME; only dates and number formats stay C's (the app shows neither
# through the locale). Says on stderr which one it used.
set -euo pipefail
dir=$1 name=$2
normalized=$(printf '%s' "$name" | sed 's/UTF-8$/utf8/')
if locale -a 2>/dev/null | grep -qx -e "$name" -e "$normalized"; then
    echo "make-locale: the system has $name" >&2
    exit 0
fi
mkdir -p "$dir"
language=${name%%.*}
if command -v localedef >/dev/null && [[ -f /usr/share/i18n/locales/$language ]] &&
    localedef --no-archive -i "$language" -f UTF-8 "$dir/$name" 2>/dev/null; then
    echo "make-locale: $name compiled by localedef into $dir" >&2
else
    c_locale=
    for candidate in /usr/lib/locale/C.utf8 /usr/lib/locale/C.UTF-8; do
        [[ -d $candidate ]] && { c_locale=$candidate; break; }
    done
    [[ -n $c_locale ]] || { echo "make-locale: neither $name's sources nor C.UTF-8's data are here" >&2; exit 1; }
    rm -rf "${dir:?}/$name"
    cp -r "$c_locale" "$dir/$name"
    echo "make-locale: no $name locale or sources here; $dir/$name is C.UTF-8's data under that name" >&2
fi
printf '%s\n' "$dir"
