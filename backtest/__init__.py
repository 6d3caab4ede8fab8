"""The backtest stage: prices, simulation and evidence, in rooms that follow the data flow.

* ``conventions`` (names of the run's choices) and ``results`` (the contract of the files a run
  writes) are shared by every room;
* ``prices/`` — where closes come from and are kept: ``sources`` (files, Yahoo Finance),
  ``store`` (the local price store), ``refresh`` (what a fetch must download);
* ``simulation/`` — ``calendar`` (shared trading days, rebalance days), ``engine`` (bucket
  portfolios with vectorbt), ``prepare`` (a run's inputs checked and laid out);
* ``evidence/`` — ``metrics`` (performance over returns), ``claims`` (verdicts and their
  controls) and the statistics behind them;
* ``run`` and ``sweep`` — the jobs that assemble the rooms into a run's results and a sweep.

A room imports only the shared modules and the rooms before it (``tests/test_api.py`` checks it).
"""
