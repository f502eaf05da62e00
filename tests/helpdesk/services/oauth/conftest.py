"""The OAuth tests' servers: tests/oauth_server.py (and its Dovecot and SMTP)."""

from oauth_server import oauth_dovecot, oauth_provider, oauth_server, oauth_smtp  # noqa: F401
