"""Stand-ins for Netvisor and Maventa, and the demo data they serve: development and tests only.

- ``netvisor/``: a local Netvisor written from Netvisor's published documents (its headers,
  MAC, XML shapes and error answers), never from the plugin's client
  (``helpdesk netvisor-sandbox``; ``server.serve_in_thread`` for tests).
- ``maventa.py``: a local Maventa AutoXChange written from AX's published OpenAPI and
  guides, never from the plugin's client (``helpdesk maventa-sandbox``).
- ``demo.py``: the plugin's part of ``helpdesk demo`` (the sandbox's users, a first sync).
- ``cli.py``, ``hooks.py``: the sandbox commands and what ``helpdesk dev`` starts, wired in
  as a development plugin of its own (entry point ``invoices-sandboxes``).

May import: the rest of the plugin (its clients, settings and sync, for the test helpers and
the demo) and the core's ``helpdesk.plugin_api``. Production code never imports this
package (an import-linter contract holds it to that); the settings spell out the
sandboxes' development defaults as plain values instead.
"""
