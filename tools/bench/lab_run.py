"""Runs one of the bench's scripts inside the lab (tests/lab/lab.sh: root,
its own libvirtd, polkitd and the helper in namespaces) and reads the JSON
document it writes."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_json(args, schemas, script, script_args):
    """SCRIPT with SCRIPT_ARGS and `--out FILE` in the lab: the document it
    wrote, or {"skipped": why}."""
    if os.geteuid() != 0:
        return {"skipped": "the lab needs root (namespaces, libvirtd); run inside ./dev"}
    guest = Path(args.lab_dir) / "guest"
    subprocess.run([str(REPO / "tests/lab/build-guest.sh"), str(guest)], check=True, cwd=REPO)
    out = Path(tempfile.mkdtemp(prefix="bench-lab-")) / "result.json"
    env = dict(os.environ, LAB_DOCTOR=os.path.abspath(args.app), LAB_HELPER=os.path.abspath(args.helper),
               LAB_GUEST_DIR=str(guest), LAB_CACHE_DIR=str(Path(args.lab_dir) / "cache"),
               GSETTINGS_SCHEMA_DIR=str(schemas))
    done = subprocess.run([str(REPO / "tests/lab/lab.sh"), "python3", str(script), *script_args, "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    try:
        return json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"skipped": f"the lab run gave no figures (exit {done.returncode}): "
                           + (done.stdout + done.stderr)[-1500:]}
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
