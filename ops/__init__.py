"""mentorlink-ops: the operator's command line (topics, consumer lag, dead letters, rebuilds)."""
