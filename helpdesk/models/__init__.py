"""All table models, imported here so that metadata is complete for Alembic."""

from helpdesk.models.agents import Agent, AgentSession, ApiToken, LoginThrottle, Role
from helpdesk.models.audit import AuditEvent
from helpdesk.models.base import UTCDateTime, utcnow
from helpdesk.models.blocks import BlockScope, SenderBlock, SenderBlockRead
from helpdesk.models.calls import Call, CallCreate, CallDirection, CallRead
from helpdesk.models.inbound import InboundMail, InboundOutcome, JobLock
from helpdesk.models.mailboxes import (
    Mailbox,
    MailboxAuth,
    MailboxFolderState,
    MailboxOAuth,
    OAuthProvider,
    OAuthStatus,
    Security,
)
from helpdesk.models.messages import (
    Attachment,
    AttachmentRead,
    DeliveryStatus,
    Message,
    MessageKind,
    NoteCreate,
)
from helpdesk.models.notifications import (
    Mention,
    Notification,
    NotificationKind,
    NotifyEmail,
    TicketFollower,
)
from helpdesk.models.oauth_requests import MailboxOAuthRequest
from helpdesk.models.outbox import (
    OutboundKind,
    OutboundMail,
    PresenceState,
    SavedReply,
    TicketPresence,
)
from helpdesk.models.people import (
    EtunnusUser,
    UserCreate,
    UserEmail,
    UserPhone,
    UserRead,
    UserUpdate,
)
from helpdesk.models.queue import QueueRow
from helpdesk.models.tags import SavedView, SavedViewRead, Tag, TagRead, TicketTag
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
    "AgentSession",
    "ApiToken",
    "Attachment",
    "AttachmentRead",
    "AuditEvent",
    "BlockScope",
    "Call",
    "CallCreate",
    "CallDirection",
    "CallRead",
    "Channel",
    "DeliveryStatus",
    "EtunnusUser",
    "InboundMail",
    "InboundOutcome",
    "JobLock",
    "LoginThrottle",
    "Mailbox",
    "MailboxAuth",
    "MailboxFolderState",
    "MailboxOAuth",
    "MailboxOAuthRequest",
    "Mention",
    "Message",
    "MessageKind",
    "NoteCreate",
    "Notification",
    "NotificationKind",
    "NotifyEmail",
    "OAuthProvider",
    "OAuthStatus",
    "OutboundKind",
    "OutboundMail",
    "PresenceState",
    "QueueRow",
    "Role",
    "SavedReply",
    "SavedView",
    "SavedViewRead",
    "Security",
    "SenderBlock",
    "SenderBlockRead",
    "Tag",
    "TagRead",
    "Ticket",
    "TicketFollower",
    "TicketLink",
    "TicketPresence",
    "TicketRead",
    "TicketStatus",
    "TicketTag",
    "TicketUpdate",
    "UTCDateTime",
    "UserCreate",
    "UserEmail",
    "UserPhone",
    "UserRead",
    "UserUpdate",
    "utcnow",
]
