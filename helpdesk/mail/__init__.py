"""Mail: the shared mailboxes' way in and way out.

- ``inbound/``: mail in. IMAP fetch (IDLE or polling) -> raw store -> parse -> filters ->
  one write path (``inbound.ingest``) that makes tickets and messages; imports and
  reprocessing take the same way.
- ``outbound/``: mail out. The outbox worker sends queued replies and notices over SMTP
  and keeps a copy in the Sent folder, exactly once.
- ``imap/``: the IMAP client both pipelines use.
- ``parsing/``, ``filters/``, ``compose.py``: pure mail formats (bytes -> ``ParsedMail``;
  steps that only annotate it; outgoing MIME). No database, no network.

Layers, higher importing lower and never the reverse: ``inbound`` | ``outbound`` (the
pipelines, independent of each other; they alone use ``imap``) -> ``helpdesk.services``
-> the pure formats -> ``helpdesk.models`` -> settings, db, ``helpdesk.blobs``. The
services never import the pipelines or ``imap``; they may use the pure formats
(``compose``, ``parsing``). This ``__init__`` imports nothing, so a service importing
``helpdesk.mail.compose`` pulls in nothing else.
"""
