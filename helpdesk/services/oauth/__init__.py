"""OAuth 2.0 for mailboxes that sign in with XOAUTH2 (Microsoft 365, Google, any other).

- ``providers``: where each provider's endpoints are and which scopes mail needs (pure).
- ``grants``: a mailbox's OAuth client and grant: set up, save a grant (connect), mark it
  needing a reconnect; the secrets sealed at rest (``helpdesk.crypto``).
- ``notices``: the admins' mail when a grant needs a reconnect (the page banner reads
  ``grants.needing_reconnect``).
- ``tokens``: a usable access token for IMAP and SMTP: cached, refreshed with authlib
  outside any transaction, one refresh per mailbox at a time across workers.
"""
