"""What the simulated returns show: performance metrics (``metrics``) and the claims' verdicts with
their controls (``claims``)."""
