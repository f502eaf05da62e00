"""The team's rules for an invoice, as pure functions: no database, no network, no settings.

``checks`` runs the automatic checks on a plain snapshot of an invoice (each result with a
Finnish reason for the agent); ``validators`` recognise delivery-method words, VAT rates and
address syntax; ``deadline`` is the same-day promise (in by 15:00 on a business day, out
the same day); ``formats`` writes amounts the Finnish way.

May import: the standard library, python-stdnum and the core's pure helpers (reference
numbers, the service calendar, through ``helpdesk.plugin_api``); nothing else of the core and
nothing of the rest of the plugin. Whoever reads Netvisor or the database fills the inputs in.
"""
