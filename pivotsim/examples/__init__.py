"""Example Pivot servers bundled with pivotsim (used by the quickstart and scenarios/)."""
