"""Risk scorer: the risk-review pipe's enrichment, scoring new accounts' high-value orders."""
