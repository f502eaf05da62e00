"""The invoice plugin: Netvisor's unsent invoices, checked and sent on by the same-day rule.

An invoice's way: ``netvisor`` (the client) -> ``sync`` (into the queue) -> ``rules``
(checks, deadline) -> the queue page (``web``) -> ``dispatch`` (email through the outbox,
post or e-invoice through ``maventa`` with ``finvoice``, then finalised in Netvisor and the
user told), or ``korjattava`` (held back until the user has corrected it).

The parts in layers, highest first; each imports only lower ones:

- ``hooks``: the only module the core loads; wiring only.
- ``cli``, ``jobs`` (the worker's schedule), ``web`` (pages, API, templates).
- ``korjattava``, then ``sync``, then ``dispatch``.
- ``queue`` and ``search`` (reading the queue), ``linker`` (invoices in mail text),
  ``reports`` (the same-day promise day by day, for the Reports page).
- ``settings`` (``HELPDESK_NETVISOR_*``, ``_MAVENTA_*``, ``_INVOICES_*``), then ``models``.
- ``rules``, ``netvisor``, ``maventa``, ``finvoice``: nothing of the rest of the plugin.

``sandboxes`` (development and tests) may import any of them and is a plugin of its own
(its ``hooks.py``); production code never imports it. ``migrations`` is the plugin's own
Alembic branch, ``i18n`` its catalogs. Of the core, every part imports only
``helpdesk.plugin_api``. Each package's docstring says what it may import; import-linter
holds the parts to these layers (``make lint-imports``, the contracts in pyproject.toml).
"""
