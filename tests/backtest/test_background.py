"""A call sent to a second process (:class:`backtest.background.Background`) gives the call's own
value, and whenever that process cannot deliver, the call runs here: errors are this process's
own, nothing is left running."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from backtest.background import Background


def pid_and_sum(values: list[float]) -> tuple[int, float]:
    """Which process ran the call, and a value it computed."""
    return os.getpid(), sum(values)


def fails(message: str) -> None:
    raise ValueError(message)


def slow(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_the_call_runs_in_the_second_process_and_returns_its_value() -> None:
    with Background[tuple[int, float]](["json"]) as background:
        background.submit(pid_and_sum, [0.1, 0.2, 0.3])
        pid, total = background.result()
    assert pid != os.getpid()
    assert total == 0.1 + 0.2 + 0.3  # the same float, computed over there
    assert background.delivered and background.why_local is None


def test_keyword_arguments_and_a_large_argument_cross_both_ways() -> None:
    values = [float(i) for i in range(300_000)]  # ~3 MB pickled: more than a pipe holds
    with Background[tuple[int, float]](["json"]) as background:
        background.submit(pid_and_sum, values=values)
        pid, total = background.result()
    assert pid != os.getpid() and total == sum(values)


def test_an_error_in_the_call_is_raised_here_by_running_it_here() -> None:
    with Background[None](["json"]) as background:
        background.submit(fails, "bad input in file x")
        with pytest.raises(ValueError, match="bad input in file x"):
            background.result()
    assert not background.delivered and background.why_local is not None
    assert "ValueError: bad input in file x" in background.why_local  # the far traceback


def test_a_module_that_does_not_import_there_makes_the_call_run_here() -> None:
    with Background[tuple[int, float]](["json", "no_such_module_here"]) as background:
        background.submit(pid_and_sum, [1.0])
        pid, total = background.result()
    assert pid == os.getpid() and total == 1.0
    assert "ModuleNotFoundError" in (background.why_local or "")


def test_a_call_that_does_not_pickle_runs_here() -> None:
    with Background[int](["json"]) as background:
        background.submit(lambda: os.getpid())
        assert background.result() == os.getpid()
    assert "pickle" in (background.why_local or "")


def test_a_second_process_that_dies_leaves_the_call_to_this_one() -> None:
    with Background[int](["json"]) as background:
        background.submit(slow, 1.0)
        process = background._process
        assert process is not None
        time.sleep(0.3)
        process.kill()
        assert background.result() == os.getpid()  # ran here instead of waiting for nothing
    assert "no answer" in (background.why_local or "")


def test_closing_without_a_result_stops_the_process() -> None:
    background = Background[int](["json"])
    process = background._process
    assert process is not None
    background.submit(slow, 60.0)
    background.close()
    assert process.poll() is not None  # stopped, and reaped: no zombie left
    background.close()  # twice is harmless


def test_a_background_takes_one_call() -> None:
    with Background[tuple[int, float]](["json"]) as background:
        with pytest.raises(RuntimeError, match="nothing was submitted"):
            background.result()
        background.submit(pid_and_sum, [1.0])
        with pytest.raises(RuntimeError, match="one call"):
            background.submit(pid_and_sum, [2.0])
        assert background.result()[1] == 1.0


def test_a_run_too_large_to_send_across_simulates_here_and_stops_the_process(
    tiny_universe: Path, tiny_prices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bucketmap.api as api
    from backtest.background import SIMULATION_IMPORTS
    from backtest.run import RunOutput
    from backtest.simulation.prepare import RunOptions

    options = RunOptions()
    sent: Background[RunOutput] = Background(SIMULATION_IMPORTS)
    with sent:
        there = api.compute_run(tiny_universe, options, prices=tiny_prices, background=sent)
    assert sent.delivered
    monkeypatch.setattr(api, "BACKGROUND_MAX_TICKERS", 2)  # the tiny run has 3 price columns
    kept: Background[RunOutput] = Background(SIMULATION_IMPORTS)
    here = api.compute_run(tiny_universe, options, prices=tiny_prices, background=kept)
    assert not kept.delivered and kept._process is None  # stopped before the simulation
    pd.testing.assert_frame_equal(there.output.returns, here.output.returns, check_exact=True)
    pd.testing.assert_frame_equal(there.claims.returns, here.claims.returns, check_exact=True)


def test_a_run_whose_second_process_fails_still_runs_and_says_so(
    tiny_universe: Path, tiny_prices: Path
) -> None:
    import bucketmap.api as api
    from backtest.run import RunOutput
    from backtest.simulation.prepare import RunOptions

    broken: Background[RunOutput] = Background(["backtest.run", "no_such_module_here"])
    job = api.compute_run(tiny_universe, RunOptions(), prices=tiny_prices, background=broken)
    plain = api.compute_run(tiny_universe, RunOptions(), prices=tiny_prices)
    assert not broken.delivered
    assert job.notes == [
        "the simulation ran in this process, not in the second one "
        "(ModuleNotFoundError: No module named 'no_such_module_here')"
    ]
    pd.testing.assert_frame_equal(job.output.returns, plain.output.returns, check_exact=True)
