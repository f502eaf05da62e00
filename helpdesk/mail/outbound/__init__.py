"""Mail out: where a queued reply or notice is sent.

``outbox`` is the worker's loop (claim a due row, send it, record the outcome, keep a
copy; exactly once), ``smtp`` hands the bytes to the mailbox's SMTP server,
``sent_folder`` keeps the copy in the mailbox's Sent folder (and finds it again after a
crash), ``sink`` is the local SMTP server the demo sends to. Replies and notices are
composed and queued by ``helpdesk.services.outgoing``/``replies`` (``helpdesk.mail.compose``).

A mail pipeline: it may import the services, models, db, locks, settings, the blob store,
``helpdesk.mail.imap`` and the pure mail formats; never ``helpdesk.mail.inbound``, the web
or the worker. Nothing below it (services, models) imports it.
"""
