"""Mail in: where a mail in a shared mailbox becomes a ticket.

The way of a mail: ``watch`` (keep each mailbox fetched: IDLE or polling) -> ``fetch``
(a folder's new UIDs, in groups of one transaction) -> ``prepare``/``bigmail`` (raw
bytes into the blob store, parse, filters, content hash) -> ``ingest`` (dedupe,
threading, the rows written in a few statements, linking) -> commit -> ``\\Seen``.
``importer`` (``helpdesk mail import``) and ``reprocess`` (``helpdesk mail reprocess``)
take the same way from files and from stored raw mail.

A mail pipeline: it may import the services (to persist), models, db, locks, settings,
the blob store, ``helpdesk.mail.imap`` and the pure mail formats (``parsing``,
``filters``, ``compose``); never ``helpdesk.mail.outbound``, the web or the worker.
Nothing below it (services, models) imports it.
"""
