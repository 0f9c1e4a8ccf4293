"""pivotsim: a faithful offline Kazoo for testing Pivot servers."""

__version__ = "0.1.0"
