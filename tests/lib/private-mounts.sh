# Sourced by the test environments (tests/helper/with-private-bus.sh,
# tests/lab/lab.sh), inside their own mount namespace: ways to make parts of
# the root writable without modifying the root itself. Copies and the
# original views live in $PRIVATE_MOUNTS_STATE, which the caller sets.

# A writable copy of PATH (a directory or a file), mounted over it.
private_copy() {
    local copy="$PRIVATE_MOUNTS_STATE/copy$(tr / _ <<<"$1")"
    cp -a "$1" "$copy"
    mount --bind "$copy" "$1"
}

# DIR as a tmpfs holding bind mounts of its entries, so that new entries
# can be created in it without touching the root.
writable_view() {
    local dir=$1 original="$PRIVATE_MOUNTS_STATE/original$(tr / _ <<<"$1")" entry name
    mkdir -p "$original"
    mount --rbind "$dir" "$original"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
    for entry in "$original"/* "$original"/.[!.]*; do
        [[ -e "$entry" || -L "$entry" ]] || continue
        name=$(basename "$entry")
        if [[ -d "$entry" && ! -L "$entry" ]]; then
            mkdir "$dir/$name"
            mount --rbind "$entry" "$dir/$name"
        else
            cp -a "$entry" "$dir/$name"
        fi
    done
}
