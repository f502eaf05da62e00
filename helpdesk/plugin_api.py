"""The plugin API: the one module of the core a plugin imports.

A plugin is a package registered under the ``helpdesk.plugins`` entry point (see
``pyproject.toml``). The core calls it through the hooks in ``helpdesk/hookspecs.py``
(implement them with ``@hookimpl``); the plugin calls the core through the names below.
Everything else in ``helpdesk`` is the core's own business and may change without notice:
``make lint-imports`` fails when a module under ``plugins/`` imports any other part of
the core (tests may import anything).

What is here, grouped as below:

- **Hooks**: ``hookimpl`` and the values hooks return or receive (``NavEntry``,
  ``FoundLink``, ``HistoryItem``, ``ScheduledJob``, ``DevService``, ``ReportPeriod``).
- **Tables**: the core's tables a plugin reads, links to or passes on, ``utcnow`` and the
  column helpers the plugin's own tables and its Alembic revisions use (``ts_field``,
  ``json_field``, ``UTCDateTime``).
- **Actions**: the services a plugin calls: open a ticket, reply in it, queue a mail and
  follow its delivery, create a user, record an audit event; and the errors they raise
  (``ServiceError`` and its kinds ``Conflict``, ``NotFound``), which the pages show to the
  agent translated.
- **Pages**: the route dependencies (``SessionDep``, ``CurrentAgent``, ``AdminAgent``,
  ``HtmxTarget``, ``ReportPeriodQuery`` for a report's ``from``/``to``/``mailbox``),
  ``API_ERRORS`` (the documented error answers: give it to every JSON API router as
  ``responses=``) and its ``Problem`` shape, and the renderers (``render`` a page or an
  htmx block, ``render_partial`` a slot, ``csv_response`` a download safe from spreadsheet
  formulas, ``report_query`` a period as a query string); the plugin's templates find the
  core's ``base.html`` and ``reports/_chart.html``.
- **Words**: ``gettext`` and ``N_``; the plugin's own catalogs come in through the
  ``helpdesk_translation_dirs`` hook.
- **Database**: ``transaction`` (the unit of work), ``end_read`` (end a read before a
  network call), ``reread`` (a row loaded before the unit, read again inside it),
  ``session_scope`` and ``new_session`` for code that runs outside a request,
  ``is_postgres``.
- **Blob store**: ``blob_store()``, the content-addressed files the core keeps (raw mail,
  attachments) and a plugin's documents beside them.
- **Work queue**: ``Queue`` describes a table of work rows (``QueueRow`` gives it the claim
  and lease columns); ``Queue.claim`` hands this worker a ``Lease`` on due rows, so that with
  several workers each row is worked once, renewed while the work runs (``LeaseLost`` when
  another worker took the row over); ``still_claimed()`` for a long scheduled job.
- **Helpers**: settings, Finnish reference numbers, the service calendar, form values;
  ``Id``, ``Line``, ``Text``, ``Search`` and ``Key``, the types every route and request
  model takes for ids and text (bounded ids, no NUL or lone surrogate, a maximum length;
  see ``helpdesk.values``); ``fold_accents``, the lower-case accent folding search compares
  by (``makinen`` matches Mäkinen).

The blob store and the work queue are functions here, not hooks: hooks are the core
asking plugins, and these are a plugin asking the core, as every other name here is.

The rules that keep the core and the plugins sound together:

- A plugin imports from the core only this module; its Alembic revisions too (autogenerate
  writes ``helpdesk.models.base.UTCDateTime``: import ``UTCDateTime`` from here instead).
- Writes happen in a unit of work: ``with transaction(session):`` commits on leaving the
  block and rolls back on an error; a nested block joins the outer one, so an action called
  inside the plugin's block commits with it. A hook never commits unless its docstring
  says it may; ``helpdesk_message_stored`` and ``helpdesk_tickets_merged`` run inside the
  core's own transaction.
- No network I/O (HTTP, SMTP, IMAP) while a transaction is open: read and ``end_read``
  first, call out, then write what came back in a new unit of work (``reread`` what it
  changes). docs/architecture.md has the whole rule. Every outside call has a
  timeout, and its failure marks the one item it concerns.
- GET requests never write: their session is read-only (``ReadOnlySession`` on a write);
  ``helpdesk_page_notices`` and the page slots only read (``new_session(read_only=True)``).
- Mail goes out through ``queue_mail`` (the outbox sends it once, even with an
  ``idempotency_key`` queued twice); ask ``mail_delivery`` where it is rather than reading
  the outbox's table.
- Users, tickets and messages are made through the actions here, so that they are
  validated and audited as the core's own are; the tables are for reading and linking.
"""

from __future__ import annotations

from sqlmodel import Session

from helpdesk import db
from helpdesk.blobs import BlobStore
from helpdesk.db import end_read, is_postgres, reread, session_scope, transaction
from helpdesk.hookspecs import (
    DevService,
    FoundLink,
    HistoryItem,
    NavEntry,
    ReportPeriod,
    ScheduledJob,
    hookimpl,
)
from helpdesk.i18n import N_, gettext
from helpdesk.jobs import still_claimed
from helpdesk.models import (
    Agent,
    EtunnusUser,
    Mailbox,
    Message,
    OutboundKind,
    OutboundMail,
    QueueRow,
    Ticket,
    TicketLink,
    TicketStatus,
    utcnow,
)
from helpdesk.models.base import UTCDateTime, json_field, ts_field
from helpdesk.references import (
    find_references,
    from_rf,
    invoice_number_parts,
    is_valid_reference,
    is_valid_rf,
    make_reference,
    normalise_reference,
    virtual_barcode,
)
from helpdesk.service_hours import ServiceCalendar, calendar_from_settings
from helpdesk.services.audit import record as record_audit
from helpdesk.services.errors import Conflict, NotFound, ServiceError
from helpdesk.services.mailboxes import by_address as mailbox_by_address
from helpdesk.services.outgoing import AttachmentIn, blob_store, queue_mail, ticket_subject
from helpdesk.services.outgoing import Delivery as MailDelivery
from helpdesk.services.outgoing import delivery as mail_delivery
from helpdesk.services.outgoing import retry_failed as retry_failed_mail
from helpdesk.services.people import create_user, emails_of
from helpdesk.services.people import get_by_etunnus as user_by_etunnus
from helpdesk.services.replies import reply
from helpdesk.services.tickets import get_ticket, open_ticket
from helpdesk.services.tickets import thread as ticket_thread
from helpdesk.settings import get_settings
from helpdesk.values import Id, Key, Line, Search, Text, as_id, parse_wall_time
from helpdesk.web.deps import AdminAgent, CurrentAgent, HtmxTarget, ReportPeriodQuery, SessionDep
from helpdesk.web.downloads import csv_response
from helpdesk.web.pages.reports import period_query as report_query
from helpdesk.web.problems import API_ERRORS, Problem
from helpdesk.web.templating import render, render_partial
from helpdesk.words import fold as fold_accents
from helpdesk.workqueue import Lease, LeaseLost, Queue


def new_session(*, read_only: bool = False) -> Session:
    """A session of the caller's own, for reading outside a request; close it when done.

    ``helpdesk.db.new_session`` is looked up at each call, so that the tests' shared
    session (they replace it) reaches a plugin as it reaches the core.
    """
    return db.new_session(read_only=read_only)


__all__ = [  # noqa: RUF022 - in the docstring's groups, not alphabetical
    # Hooks
    "DevService",
    "FoundLink",
    "HistoryItem",
    "NavEntry",
    "ReportPeriod",
    "ScheduledJob",
    "hookimpl",
    # Tables
    "Agent",
    "EtunnusUser",
    "Mailbox",
    "Message",
    "OutboundKind",
    "OutboundMail",
    "Ticket",
    "TicketLink",
    "TicketStatus",
    "UTCDateTime",
    "json_field",
    "ts_field",
    "utcnow",
    # Actions
    "AttachmentIn",
    "Conflict",
    "MailDelivery",
    "NotFound",
    "ServiceError",
    "create_user",
    "emails_of",
    "get_ticket",
    "mail_delivery",
    "mailbox_by_address",
    "open_ticket",
    "queue_mail",
    "record_audit",
    "reply",
    "retry_failed_mail",
    "ticket_subject",
    "ticket_thread",
    "user_by_etunnus",
    # Pages
    "API_ERRORS",
    "AdminAgent",
    "CurrentAgent",
    "HtmxTarget",
    "Problem",
    "ReportPeriodQuery",
    "SessionDep",
    "csv_response",
    "render",
    "render_partial",
    "report_query",
    # Words
    "N_",
    "gettext",
    # Database
    "end_read",
    "is_postgres",
    "new_session",
    "reread",
    "session_scope",
    "transaction",
    # Blob store
    "BlobStore",
    "blob_store",
    # Work queue
    "Lease",
    "LeaseLost",
    "Queue",
    "QueueRow",
    "still_claimed",
    # Helpers
    "Id",
    "Key",
    "Line",
    "Search",
    "ServiceCalendar",
    "Text",
    "as_id",
    "calendar_from_settings",
    "find_references",
    "fold_accents",
    "from_rf",
    "get_settings",
    "invoice_number_parts",
    "is_valid_reference",
    "is_valid_rf",
    "make_reference",
    "normalise_reference",
    "parse_wall_time",
    "virtual_barcode",
]
