"""Phone calls: the logging form (a page, or a panel opened from the top bar), the
as-you-type caller lookup, and the list of recent calls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.i18n import N_
from helpdesk.i18n import gettext as _
from helpdesk.models import EtunnusUser, Ticket, utcnow
from helpdesk.services import calls as call_service
from helpdesk.services import people as people_service
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.settings import get_settings
from helpdesk.values import Id, Line, Search, Text
from helpdesk.web.deps import CurrentAgent, HtmxTarget, SessionDep
from helpdesk.web.forms import Checkbox, OptionalId
from helpdesk.web.templating import render

router = APIRouter()
DIALOG = "call-dialog"
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class CallForm(BaseModel):
    """A logged call. ``started_at`` is ``datetime-local`` text in Helsinki time and
    ``duration`` what the agent typed (both read by the route, which names what is wrong);
    ``close`` resolves the ticket on the phone."""

    phone: Line = ""
    user: Line = ""
    ticket_id: OptionalId = None
    direction: Line = "incoming"
    started_at: Line = ""
    duration: Line = ""
    topic: Line = ""
    notes: Text = ""
    close: Checkbox = False


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _picked(session: SessionDep, user: EtunnusUser | None, ticket_id: int | None) -> dict[str, Any]:
    return {
        "picked": user,
        "open_tickets": call_service.open_tickets_of(session, user) if user else [],
        "chosen_ticket": ticket_id,
    }


@router.get("/calls", include_in_schema=False)
def call_list(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    context = {"rows": call_service.recent(session, limit=100)}
    return render(request, "calls/list.html", context)


@router.get("/calls/new", include_in_schema=False)
def call_form(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    target: HtmxTarget,
    phone: Line = "",
    user: Line = "",
    ticket: Id | None = None,
) -> Response:
    """The form; ``ticket`` preselects a ticket (and its user), ``user`` a user."""
    chosen: EtunnusUser | None = None
    if ticket is not None:
        found = session.get(Ticket, ticket)
        if found is not None and found.user_id:
            chosen = session.get(EtunnusUser, found.user_id)
    if user:
        chosen = people_service.get_by_etunnus(session, user) or chosen
    context = {
        "phone": phone,
        "now_local": utcnow().astimezone(_zone()).strftime(_LOCAL_INPUT),
        "in_dialog": target == DIALOG,
        **_picked(session, chosen, ticket),
    }
    block = "call_form" if target == DIALOG else None
    return render(request, "calls/new.html", context, block=block)


@router.get("/calls/lookup", include_in_schema=False)
def lookup(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    phone: Line = "",
    q: Search = "",
    user: Line = "",
    hx_trigger_name: Annotated[Line | None, Header()] = None,
) -> Response:
    """Users matching what is typed in the number field or the search field.

    A complete number that belongs to exactly one user picks that user at once (when no
    user has been picked yet), so for a known caller the agent types nothing else.
    """
    by_phone = hx_trigger_name == "phone" or (not q.strip() and hx_trigger_name is None)
    query = phone if by_phone else q
    users = people_service.search(session, query, limit=8) if query.strip() else []
    auto = None
    if by_phone and not user:
        exact = people_service.find_by_phone(session, phone)
        auto = exact[0] if len(exact) == 1 else None
    context = {
        "users": users,
        "phones": {u.id: people_service.phones_of(session, u) for u in users},
        "query": query,
        "phone": phone,
        "auto": auto,
        **_picked(session, auto, None),
    }
    return render(request, "calls/_lookup.html", context)


@router.get("/calls/pick", include_in_schema=False)
def pick(request: Request, session: SessionDep, agent: CurrentAgent, user: Line = "") -> Response:
    """The chosen caller and their open tickets (an empty choice clears it)."""
    chosen = people_service.get_user(session, user) if user else None
    context = _picked(session, chosen, None) | {"clear_lookup": True}
    return render(request, "calls/_picked.html", context)


def parse_local(value: str) -> datetime | None:
    """A ``datetime-local`` value in Helsinki time, as an aware datetime (None if empty)."""
    if not value.strip():
        return None
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ServiceError(N_("The start time is not a date and time")) from exc
    return naive.replace(tzinfo=_zone()) if naive.tzinfo is None else naive


def _form_errors(
    session: SessionDep, form: CallForm
) -> tuple[dict[str, str], EtunnusUser | None, datetime | None, int]:
    """What is wrong with the form, by field (in the agent's language), and the values read.

    A call needs someone (a valid number, or the user picked) and something said (a topic
    or notes); the time and duration must read as such."""
    errors: dict[str, str] = {}
    caller = (
        people_service.get_by_etunnus(session, form.user.strip()) if form.user.strip() else None
    )
    phone = form.phone.strip()
    if form.user.strip() and caller is None:
        errors["phone"] = _("No such user: find and pick the user again.")
    elif phone and people_service.parse_phone(phone) is None:
        errors["phone"] = _("Not a phone number. Write it as 040 123 4567 or +358 40 123 4567.")
    elif not phone and caller is None:
        errors["phone"] = _("Give the caller's number, or find and pick the user.")
    if not (form.topic.strip() or form.notes.strip()):
        errors["topic"] = _("Write what the call was about (a topic or notes).")
    started: datetime | None = None
    try:
        started = parse_local(form.started_at)
    except ServiceError as exc:
        errors["started_at"] = exc.text()
    try:
        if started is not None:
            call_service.start_time(started)  # the service's own rule, said beside the field
    except ServiceError as exc:
        errors["started_at"] = exc.text()
    duration = 0
    try:
        duration = call_service.parse_duration(form.duration)
    except ServiceError as exc:
        errors["duration"] = exc.text()
    return errors, caller, started, duration


@router.post("/calls", include_in_schema=False)
def save_call(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    target: HtmxTarget,
    form: Annotated[CallForm, Form()],
) -> Response:
    errors, caller, started, duration = _form_errors(session, form)
    if errors:
        # The form again, with every error beside its field and what was typed kept.
        context = {
            "phone": form.phone,
            "form": form,
            "errors": errors,
            "now_local": utcnow().astimezone(_zone()).strftime(_LOCAL_INPUT),
            "in_dialog": target == DIALOG,
            **_picked(session, caller, form.ticket_id),
        }
        if target == DIALOG:
            headers = {"HX-Retarget": f"#{DIALOG}", "HX-Reswap": "innerHTML"}
            return render(
                request,
                "calls/new.html",
                context,
                block="call_form",
                status_code=422,
                headers=headers,
            )
        return render(request, "calls/new.html", context, status_code=422)
    ticket = (
        ticket_service.get_ticket(session, form.ticket_id) if form.ticket_id is not None else None
    )
    call = call_service.log_call(
        session,
        by=agent,
        phone=form.phone,
        direction="outgoing" if form.direction == "outgoing" else "incoming",
        started_at=started,
        duration_seconds=duration,
        topic=form.topic,
        notes=form.notes,
        user=caller,
        ticket=ticket,
        close=form.close,
    )
    saved = ticket_service.get_ticket(session, call.ticket_id)
    if target == DIALOG:
        return render(request, "calls/_saved.html", {"call": call, "ticket": saved})
    return RedirectResponse(f"/tickets/{saved.id}#m{call.message_id}", status_code=303)
