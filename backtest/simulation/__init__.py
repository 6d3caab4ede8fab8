"""Buckets as portfolios: the trading calendar (``calendar``), a run's inputs laid out on it
(``prepare``) and the simulation itself (``engine``, with vectorbt)."""
