"""Message ids that templates build from values (``_(ticket.status)``, ``_("kind_" ~ m.kind)``).

Extraction cannot see a msgid made at render time, so each one is listed here with
``N_`` for ``pybabel extract`` to pick up. These ids are keys, not English, so the
English catalog must carry text for them too (a test checks both catalogs).
"""

from __future__ import annotations

from helpdesk.i18n import N_

#: ``_(ticket.status)``: a ticket's status as a label.
STATUSES = (N_("open"), N_("pending"), N_("closed"))

#: ``_("action_" ~ status)``: the buttons that move a ticket to that status.
STATUS_ACTIONS = (N_("action_open"), N_("action_pending"), N_("action_closed"))

#: ``_("kind_" ~ message.kind)``: what an entry in the thread is.
MESSAGE_KINDS = (
    N_("kind_incoming"),
    N_("kind_outgoing"),
    N_("kind_note"),
    N_("kind_call"),
    N_("kind_forward"),
)

#: ``_("delivery_" ~ message.delivery_status)``: where an outgoing message is on its way.
DELIVERY_STATUSES = (
    N_("delivery_queued"),
    N_("delivery_sending"),
    N_("delivery_sent"),
    N_("delivery_failed"),
    N_("delivery_cancelled"),
)

#: ``_("role_" ~ agent.role)``.
ROLES = (N_("role_agent"), N_("role_admin"))

#: ``_(flag)``: annotations the mail filters put on messages and tickets.
FLAGS = (
    N_("auto_reply"),
    N_("bounce"),
    N_("unparsed"),
    N_("duplicate_message_id"),
    N_("loop"),
    N_("list"),
    # Our own mail sent by the system (a dispatch notice, not an agent).
    N_("automatic"),
)

#: Every key-like msgid of the core; plugins may add their own beside their code.
ALL: tuple[str, ...] = STATUSES + STATUS_ACTIONS + MESSAGE_KINDS + DELIVERY_STATUSES + ROLES + FLAGS
