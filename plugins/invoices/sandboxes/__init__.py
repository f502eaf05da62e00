"""Stand-ins for Netvisor and Maventa, and the demo data they serve: development and tests only.

- ``netvisor/``: a local Netvisor speaking its headers, MAC, XML shapes and error answers
  (``helpdesk netvisor-sandbox``; ``server.serve_in_thread`` for tests).
- ``maventa.py``: a local Maventa AutoXChange (``helpdesk maventa-sandbox``).
- ``demo.py``: the plugin's part of ``helpdesk demo`` (the sandbox's users, a first sync).

May import: the rest of the plugin (its clients, settings and sync, for the test helpers and
the demo) and the core. Production code never imports this package; the settings spell out
the sandboxes' development defaults as plain values instead. The only ways in are the
development commands in ``cli.py`` and the demo hook in ``hooks.py``, which import it when
they run, never when the plugin loads.
"""
