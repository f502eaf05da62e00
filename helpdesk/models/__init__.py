"""All table models, imported here so that metadata is complete for Alembic."""

from helpdesk.models.agents import Agent, ApiToken, Role
from helpdesk.models.audit import AuditEvent
from helpdesk.models.base import UTCDateTime, utcnow
from helpdesk.models.calls import Call, CallDirection
from helpdesk.models.mailboxes import Mailbox, MailboxFolderState, Security
from helpdesk.models.messages import (
    Attachment,
    AttachmentRead,
    DeliveryStatus,
    Message,
    MessageKind,
    NoteCreate,
)
from helpdesk.models.people import EtunnusUser, UserEmail, UserPhone
from helpdesk.models.tickets import (
    TICKET_NUMBER_OFFSET,
    Channel,
    Ticket,
    TicketLink,
    TicketRead,
    TicketStatus,
    TicketUpdate,
)

__all__ = [
    "TICKET_NUMBER_OFFSET",
    "Agent",
    "ApiToken",
    "Attachment",
    "AttachmentRead",
    "AuditEvent",
    "Call",
    "CallDirection",
    "Channel",
    "DeliveryStatus",
    "EtunnusUser",
    "Mailbox",
    "MailboxFolderState",
    "Message",
    "MessageKind",
    "NoteCreate",
    "Role",
    "Security",
    "Ticket",
    "TicketLink",
    "TicketRead",
    "TicketStatus",
    "TicketUpdate",
    "UTCDateTime",
    "UserEmail",
    "UserPhone",
    "utcnow",
]
