"""The IMAP client of the shared mailboxes (imapclient): sessions, bounded-memory fetches.

``session.ImapSession`` selects folders, lists UIDs, fetches (large bodies streamed into
the blob store by ``fetching``), sets flags, appends and IDLEs; ``values`` holds its
settings, results and errors. Mail in (``inbound``) reads through it and mail out
(``outbound``) keeps Sent copies with it.

It may import the standard library, imapclient and ``helpdesk.blobs``; never the
database, the services or the mail pipelines.
"""
