"""The fake Kazoo Crossbar: the REST API a Pivot developer's code provisions and dials with.

``create_app()`` returns a Flask app (WSGI) answering Crossbar's ``/v2`` API in memory,
or in SQLite with ``state=``; ``connect`` places the simulated call through the
pivotsim engine, so the Pivot server receives Kazoo's requests.
"""

from __future__ import annotations

from .api import Crossbar
from .app import create_app, crossbar_of
from .auth import credentials_hash
from .calls import ContactScript, parse_script
from .errors import CrossbarError
from .seed import SeedError, load_seed_file

__all__ = [
    "ContactScript",
    "Crossbar",
    "CrossbarError",
    "SeedError",
    "create_app",
    "credentials_hash",
    "crossbar_of",
    "load_seed_file",
    "parse_script",
]
