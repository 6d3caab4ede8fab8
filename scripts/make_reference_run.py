"""Rewrite ``tests/data/reference_run/`` from the default run on the shipped sample
(see ``tests/reference_run.py``). Run from the repository: ``.venv/bin/python
scripts/make_reference_run.py``. Only when a change of numbers is intended."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reference_run import REFERENCE, reference_of  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        subprocess.run(
            [sys.executable, "-m", "bucketmap", "run", "--prices", "sample", "--no-record",
             "--out", str(out)],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        files = reference_of(out)
    REFERENCE.mkdir(parents=True, exist_ok=True)
    for old in REFERENCE.iterdir():
        old.unlink()
    for name, content in files.items():
        (REFERENCE / name).write_bytes(content)
        print(f"{REFERENCE / name}: {len(content):,} bytes")


if __name__ == "__main__":
    main()
