"""@mentions in internal notes: found in the text, kept as references to agents, shown.

A handle is what follows ``@``: an agent's whole address (``@maija@e-tunnus.fi``) or the
part before its ``@`` when no other active agent shares it (``@maija``), which is what the
note form's autocomplete writes. A handle that names nobody stays plain text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape
from sqlmodel import Session, col, func, or_, select

from helpdesk.models import Agent, Mention

#: ``@`` not inside a word or an address, then a local part and perhaps a domain.
HANDLE = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")
MAX_SUGGESTIONS = 10


def handles(text: str) -> list[str]:
    """The handles written in ``text``, each once, in order (a sentence's dot is not one)."""
    seen: dict[str, None] = {}
    for match in HANDLE.finditer(text):
        handle = match.group(1).rstrip(".").lower()
        if handle:
            seen.setdefault(handle, None)
    return list(seen)


def local_part(email: str) -> str:
    return email.split("@", 1)[0].lower()


def resolve(session: Session, text: str) -> dict[str, Agent]:
    """The active agents ``text`` mentions, by the handle as written (lower case)."""
    wanted = handles(text)
    if not wanted:
        return {}
    agents = list(session.exec(select(Agent).where(col(Agent.active).is_(True))))
    by_email = {a.email.lower(): a for a in agents}
    by_local: dict[str, list[Agent]] = {}
    for agent in agents:
        by_local.setdefault(local_part(agent.email), []).append(agent)
    found: dict[str, Agent] = {}
    for handle in wanted:
        if handle in by_email:
            found[handle] = by_email[handle]
        elif len(by_local.get(handle, [])) == 1:
            found[handle] = by_local[handle][0]
    return found


def record(session: Session, *, message_id: int, found: dict[str, Agent]) -> None:
    """Keep the note's mentions as rows (a step: the caller's unit of work commits)."""
    for handle, agent in found.items():
        session.add(Mention(message_id=message_id, agent_id=agent.id or 0, handle=handle))


def of_messages(session: Session, message_ids: Sequence[int]) -> dict[int, dict[str, Agent]]:
    """Each message's mentions, handle to agent (one query)."""
    result: dict[int, dict[str, Agent]] = {}
    if not message_ids:
        return result
    rows = session.exec(
        select(Mention, Agent)
        .join(Agent, col(Agent.id) == Mention.agent_id)
        .where(col(Mention.message_id).in_(list(message_ids)))
    )
    for mention, agent in rows:
        result.setdefault(mention.message_id, {})[mention.handle] = agent
    return result


def highlighted(text: str, found: dict[str, Agent]) -> Markup:
    """``text`` escaped, each stored mention shown as the agent's name."""
    out: list[str] = []
    last = 0
    for match in HANDLE.finditer(text):
        handle = match.group(1).rstrip(".").lower()
        agent = found.get(handle)
        if agent is None:
            continue
        end = match.start() + 1 + len(handle)
        out.append(str(escape(text[last : match.start()])))
        out.append(
            f'<mark class="mention" data-agent-id="{agent.id}" '
            f'title="{escape(agent.email)}">@{escape(agent.name)}</mark>'
        )
        last = end
    out.append(str(escape(text[last:])))
    return Markup("".join(out))  # noqa: S704 (every part escaped above)


def mentionable(session: Session, query: str = "", *, limit: int = MAX_SUGGESTIONS) -> list[Agent]:
    """Active agents whose name or address starts with ``query`` (or has a word that does)."""
    stmt = select(Agent).where(col(Agent.active).is_(True))
    q = query.strip().lstrip("@").lower()
    if q:
        like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(
            or_(
                func.lower(Agent.name).like(f"{like}%", escape="\\"),
                func.lower(Agent.name).like(f"% {like}%", escape="\\"),
                func.lower(Agent.email).like(f"{like}%", escape="\\"),
            )
        )
    return list(session.exec(stmt.order_by(col(Agent.name)).limit(limit)))


def handles_for(session: Session, agents: Sequence[Agent]) -> dict[int, str]:
    """The handle the autocomplete writes for each agent: short unless it is ambiguous."""
    locals_ = [local_part(e) for e in session.exec(select(Agent.email).where(Agent.active))]
    return {
        a.id or 0: local_part(a.email) if locals_.count(local_part(a.email)) == 1 else a.email
        for a in agents
    }
