"""The default run on the shipped sample gives today's outputs to 1e-12 (``tests/reference_run.py``
says what is kept and how it is rewritten): a speed-up that moves a number fails here."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.reference_run import RUN_ID, compare_with_reference

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def test_the_default_run_gives_the_reference_outputs(demo_run: Path) -> None:
    found = compare_with_reference(demo_run)
    assert not found, "\n".join(found[:20])


def test_the_comparison_sees_a_moved_number_and_a_moved_word(
    demo_run: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(demo_run, moved)
    claims = json.loads((moved / "claims.json").read_text())
    claims["claims"][0]["test"]["low"] += 1e-9
    (moved / "claims.json").write_text(json.dumps(claims))
    found = compare_with_reference(moved)
    assert len(found) == 1 and "claims.json.gz/claims[0]/test/low" in found[0], found
    variants = (moved / "variants.csv").read_text().splitlines()
    cells = variants[5].split(",")
    cells[3] = repr(float(cells[3]) + 1e-9)
    variants[5] = ",".join(cells)
    (moved / "variants.csv").write_text("\n".join(variants) + "\n")
    summary = (moved / "summary.md").read_text().replace("supported", "refuted", 1)
    (moved / "summary.md").write_text(summary)
    found = compare_with_reference(moved)
    assert any(f.startswith("columns.json/variants.csv/") for f in found), found
    assert any(f.startswith("summary.md.gz") for f in found), found


def test_the_run_is_the_same_whether_it_simulates_in_a_second_process_or_not(
    tmp_path: Path,
) -> None:
    """``bucketmap run`` simulates, and tests half the claims, in a second process started
    before its imports (:mod:`backtest.background`); the library's default runs everything in
    this one. Both give the reference outputs, the same files byte for byte (run ids and times
    aside)."""
    from backtest.background import RUN_IMPORTS, Background
    from bucketmap.api import run_files
    from bucketmap.notebook import run

    universes = Path(__file__).resolve().parents[1] / "universes"
    with Background(RUN_IMPORTS) as background:
        there = run(universes, prices="sample", background=background)
    # the simulation, the rank nulls and every other claim's tests ran in the second process
    assert background.delivered == 3, background.why_local
    here = run(universes, prices="sample")
    here.save(tmp_path / "here", record=False)
    found = compare_with_reference(tmp_path / "here")
    assert not found, "\n".join(found[:20])

    def same(files: dict[str, str | bytes]) -> dict[str, str | bytes]:
        return {
            k: RUN_ID.sub("X", TIME.sub("X", v)) if isinstance(v, str) else v
            for k, v in files.items()
        }

    assert same(run_files(there.job)) == same(run_files(here.job))
