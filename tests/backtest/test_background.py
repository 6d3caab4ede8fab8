"""Calls sent to a second process (:class:`backtest.background.Background`) give the calls' own
values, in order; whenever that process cannot deliver, the call runs here: errors are this
process's own, nothing is left running."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from backtest.background import RUN_IMPORTS, Background
from tests.test_cli import CLAIMS


def pid_and_sum(values: list[float]) -> tuple[int, float]:
    """Which process ran the call, and a value it computed."""
    return os.getpid(), sum(values)


def fails(message: str) -> None:
    raise ValueError(message)


def slow(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_calls_run_in_the_second_process_one_after_another() -> None:
    with Background(["json"]) as background:
        first = background.submit(pid_and_sum, [0.1, 0.2, 0.3]).result()
        second = background.submit(pid_and_sum, values=[1.0, 2.0]).result()
    assert first[0] == second[0] != os.getpid()  # the same second process ran both
    assert first[1] == 0.1 + 0.2 + 0.3  # the same float, computed over there
    assert second[1] == 3.0
    assert background.delivered == 2 and background.why_local is None


def test_a_large_argument_crosses_while_the_process_is_still_importing() -> None:
    values = [float(i) for i in range(300_000)]  # ~3 MB pickled: more than a pipe holds
    with Background(["json", "pandas"]) as background:
        pending = background.submit(pid_and_sum, values)  # returns before pandas is imported
        pid, total = pending.result()
    assert pending.delivered and pid != os.getpid() and total == sum(values)


def test_an_error_in_a_call_is_raised_here_by_running_it_here() -> None:
    with Background(["json"]) as background:
        pending = background.submit(fails, "bad input in file x")
        with pytest.raises(ValueError, match="bad input in file x"):
            pending.result()
        assert not pending.delivered
        assert "ValueError: bad input in file x" in (background.why_local or "")  # far traceback
        after = background.submit(pid_and_sum, [2.0])  # the process serves the next call
        assert after.result()[0] != os.getpid() and after.delivered


def test_a_module_that_does_not_import_there_makes_every_call_run_here() -> None:
    with Background(["json", "no_such_module_here"]) as background:
        for values in ([1.0], [2.0]):
            pid, total = background.submit(pid_and_sum, values).result()
            assert pid == os.getpid() and total == values[0]
    assert background.delivered == 0
    assert "ModuleNotFoundError" in (background.why_local or "")


def test_a_call_that_does_not_pickle_runs_here() -> None:
    with Background(["json"]) as background:
        assert background.submit(lambda: os.getpid()).result() == os.getpid()
    assert "pickle" in (background.why_local or "")


def test_a_second_process_that_dies_leaves_its_calls_to_this_one() -> None:
    with Background(["json"]) as background:
        pending = background.submit(slow, 1.0)
        process = background._process
        assert process is not None
        time.sleep(0.3)
        process.kill()
        assert pending.result() == os.getpid()  # ran here instead of waiting for nothing
        assert "no answer" in (background.why_local or "")
        assert background.submit(slow, 0.0).result() == os.getpid()  # and so do later calls


def test_closing_stops_the_process() -> None:
    background = Background(["json"])
    process = background._process
    assert process is not None
    background.submit(slow, 60.0)
    background.close()
    assert process.poll() is not None  # stopped, and reaped: no zombie left
    background.close()  # twice is harmless


def test_results_are_read_once() -> None:
    with Background(["json"]) as background:
        pending = background.submit(pid_and_sum, [1.0])
        assert pending.result()[1] == 1.0
        with pytest.raises(RuntimeError, match="read once"):
            pending.result()


def test_calls_sent_together_run_in_order_and_their_values_are_read_in_any_order() -> None:
    """Three calls sent before any value is read (the first one large: its writer is still
    writing when the others are sent); the second fails, the others come from the second
    process, and reading the last first keeps the earlier values for their own reads."""
    values = [float(i) for i in range(300_000)]
    with Background(["json", "pandas"]) as background:
        first = background.submit(pid_and_sum, values)
        second = background.submit(fails, "second call")
        third = background.submit(pid_and_sum, [4.0, 5.0])
        assert third.result()[1] == 9.0 and third.delivered
        with pytest.raises(ValueError, match="second call"):
            second.result()
        pid, total = first.result()
        assert first.delivered and pid != os.getpid() and total == sum(values)
        assert background.delivered == 2


def test_calls_sent_together_to_a_process_that_dies_all_run_here() -> None:
    with Background(["json"]) as background:
        first = background.submit(slow, 1.0)
        second = background.submit(slow, 0.0)
        process = background._process
        assert process is not None
        time.sleep(0.3)
        process.kill()
        assert second.result() == os.getpid()
        assert first.result() == os.getpid()
        assert not first.delivered and not second.delivered


TWO_CLAIMS = (
    CLAIMS
    + """\
  - id: duo-beats-spy-later
    source: test
    statement: duo beats SPY from mid-February
    bucket: duo
    benchmark: SPY
    start: 2024-02-15
"""
)
"""The command line tests' claim on the tiny universe, and a later one."""


def _claims(job: object) -> dict[str, object]:
    result = job.claims.result.model_dump(mode="json")  # type: ignore[attr-defined]
    return {k: v for k, v in result.items() if k not in ("created_at", "run_id")}


@pytest.mark.parametrize("share_variants", [False, True])
def test_a_run_shares_its_work_with_the_second_process_and_gets_the_same_numbers(
    tiny_universe: Path, tiny_prices: Path, monkeypatch: pytest.MonkeyPatch, share_variants: bool
) -> None:
    import backtest.evidence.claims as claims
    import bucketmap.api as api
    from backtest.simulation.prepare import RunOptions

    (tiny_universe / "claims.yaml").write_text(TWO_CLAIMS)
    if share_variants:  # as a 1,000-member bucket's leave-one-out variants would be
        monkeypatch.setattr(claims, "SHARED_VARIANT_COLUMNS", 1)
    options = RunOptions()
    with Background(RUN_IMPORTS) as background:
        there = api.compute_run(tiny_universe, options, prices=tiny_prices, background=background)
    here = api.compute_run(tiny_universe, options, prices=tiny_prices)
    # the simulation, the rank nulls, (half the variants,) the second claim's tests
    assert background.delivered == (4 if share_variants else 3) and not there.notes
    assert len(here.claims.variants.columns) >= 2
    pd.testing.assert_frame_equal(there.output.returns, here.output.returns, check_exact=True)
    pd.testing.assert_frame_equal(there.claims.returns, here.claims.returns, check_exact=True)
    pd.testing.assert_frame_equal(there.claims.variants, here.claims.variants, check_exact=True)
    assert _claims(there) == _claims(here)
    assert [c["id"] for c in _claims(here)["claims"]] == ["duo-beats-spy", "duo-beats-spy-later"]  # type: ignore[index]


def test_a_run_too_large_to_send_across_runs_here_and_stops_the_process(
    tiny_universe: Path, tiny_prices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bucketmap.api as api
    from backtest.simulation.prepare import RunOptions

    monkeypatch.setattr(api, "BACKGROUND_MAX_TICKERS", 2)  # the tiny run has 3 price columns
    kept = Background(RUN_IMPORTS)
    job = api.compute_run(tiny_universe, RunOptions(), prices=tiny_prices, background=kept)
    assert kept.delivered == 0 and kept._process is None and not job.notes


def test_a_run_whose_second_process_fails_still_runs_and_says_so(
    tiny_universe: Path, tiny_prices: Path
) -> None:
    import bucketmap.api as api
    from backtest.simulation.prepare import RunOptions

    broken = Background(["backtest.run", "no_such_module_here"])
    job = api.compute_run(tiny_universe, RunOptions(), prices=tiny_prices, background=broken)
    plain = api.compute_run(tiny_universe, RunOptions(), prices=tiny_prices)
    broken.close()
    assert broken.delivered == 0
    assert job.notes == [
        "a part of the run ran in this process, not in the second one "
        "(ModuleNotFoundError: No module named 'no_such_module_here')"
    ]
    pd.testing.assert_frame_equal(job.output.returns, plain.output.returns, check_exact=True)


def test_with_a_second_process_this_one_never_imports_the_heavy_libraries() -> None:
    """The point of the split: the main job's process computes the weekly history, half the
    tests and the files without vectorbt, numba, scipy, statsmodels, matplotlib or arch (whose
    package import loads the last four: ~1 s); only the second process imports vectorbt. The
    default universes on the shipped sample, as ``bucketmap run --prices sample`` runs them."""
    import subprocess
    import sys

    heavy = ("vectorbt", "numba", "scipy", "statsmodels", "matplotlib", "arch")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from backtest.background import RUN_IMPORTS, Background\n"
        "from bucketmap.api import run_files\n"
        "from bucketmap.notebook import run\n"
        "with Background(RUN_IMPORTS) as background:\n"
        "    res = run(Path('universes'), prices='sample', background=background)\n"
        "assert background.delivered == 3, background.why_local\n"
        "run_files(res.job)\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
