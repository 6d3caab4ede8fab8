"""What the simulated returns show: performance metrics (``metrics``), one claim test
(``excess``), the claims' verdicts with their controls (``claims``), and the statistics behind
them: the moving-block bootstrap (``bootstrap``), p-values adjusted across claims (``multiple``),
the own-history null (``nulls``), what a window could detect (``power``) and the signal rules
(``signals``)."""
