"""E-tunnus users: validation, create and update (audited), search and lookups.

E-tunnus numbers are six digits. Email addresses are kept lowercased; phone numbers in
E.164 (``+358401234567``), parsed with ``phonenumbers`` with Finland as the default
region, so ``040 123 4567`` and ``+358 40 123 4567`` are the same number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.i18n import gettext as _
from helpdesk.models import Agent, EtunnusUser, UserEmail, UserPhone, UserRead, utcnow
from helpdesk.services import audit
from helpdesk.services.errors import Conflict, NotFound, ServiceError
from helpdesk.values import search_terms

DEFAULT_REGION = "FI"
SEARCH_LIMIT = 20
_ETUNNUS = re.compile(r"[0-9]{6}")  # ASCII only: \d also matches other scripts' digits
# Deliberately simple: one @, no spaces, a dot in the domain. Real validation is the mail
# server's; this catches typing mistakes and pasted names.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}$")
_PHONE_CHARS = re.compile(r"^[+\d(][\d\s()./-]*$")


def normalise_etunnus(value: str) -> str:
    """Return the 6-digit e-tunnus number, or raise ServiceError."""
    number = value.strip()
    if not _ETUNNUS.fullmatch(number):
        raise ServiceError(_("An e-tunnus number is six digits: %(value)s") % {"value": value})
    return number


def normalise_email(value: str) -> str:
    """Return the address lowercased, or raise ServiceError."""
    address = value.strip().lower()
    if not _EMAIL.match(address) or len(address) > 254:
        raise ServiceError(_("Not an email address: %(value)s") % {"value": value})
    return address


def parse_phone(value: str, region: str = DEFAULT_REGION) -> str | None:
    """Return the number in E.164, or None when it is not a valid phone number."""
    text = value.strip()
    if not text or not _PHONE_CHARS.match(text):
        return None
    if text.startswith("00"):  # the international prefix dialled from Finland
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164, or raise ServiceError."""
    number = parse_phone(value, region)
    if number is None:
        raise ServiceError(_("Not a phone number: %(value)s") % {"value": value})
    return number


def format_phone(e164: str) -> str:
    """A stored number as people read it: Finnish numbers nationally, others internationally."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 358
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(number, style))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def clean_emails(values: Iterable[str]) -> list[str]:
    """Every address validated and lowercased, duplicates dropped, blanks ignored."""
    return _unique(normalise_email(v) for v in values if v.strip())


def clean_phones(values: Iterable[str]) -> list[str]:
    """Every number validated and in E.164, duplicates dropped, blanks ignored."""
    return _unique(normalise_phone(v) for v in values if v.strip())


# --- reading -------------------------------------------------------------------------


def get_by_etunnus(session: Session, etunnus: str) -> EtunnusUser | None:
    """The user with this e-tunnus number, or None."""
    return session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == etunnus.strip())).first()


def get_user(session: Session, etunnus: str) -> EtunnusUser:
    """The user with this e-tunnus number, or NotFound."""
    user = get_by_etunnus(session, etunnus)
    if user is None:
        raise NotFound(N_("No such user"))
    return user


def emails_of(session: Session, user: EtunnusUser) -> list[str]:
    """The user's addresses in the order they were added."""
    query = select(UserEmail.email).where(UserEmail.user_id == user.id).order_by(col(UserEmail.id))
    return list(session.exec(query))


def phones_of(session: Session, user: EtunnusUser) -> list[str]:
    """The user's numbers (E.164) in the order they were added."""
    query = select(UserPhone.phone).where(UserPhone.user_id == user.id).order_by(col(UserPhone.id))
    return list(session.exec(query))


def user_read(session: Session, user: EtunnusUser) -> UserRead:
    """The API shape of a user."""
    return UserRead(
        etunnus=user.etunnus,
        name=user.name,
        emails=emails_of(session, user),
        phones=phones_of(session, user),
        notes=user.notes,
    )


def find_by_email(session: Session, address: str) -> list[EtunnusUser]:
    """Users who have this address (several when people share one)."""
    return find_by_emails(session, [address]).get(address.strip().lower(), [])


def find_by_emails(session: Session, addresses: Iterable[str]) -> dict[str, list[EtunnusUser]]:
    """``find_by_email`` for many addresses in one query: lowercased address -> users."""
    wanted = sorted({a.strip().lower() for a in addresses if a and a.strip()})
    found: dict[str, list[EtunnusUser]] = {}
    if not wanted:
        return found
    rows = session.exec(
        select(UserEmail.email, EtunnusUser)
        .join(EtunnusUser, col(UserEmail.user_id) == col(EtunnusUser.id))
        .where(col(UserEmail.email).in_(wanted))
        .order_by(col(EtunnusUser.etunnus))
    )
    for email, user in rows:
        users = found.setdefault(email, [])
        if user not in users:
            users.append(user)
    return found


def find_by_phone(session: Session, phone: str) -> list[EtunnusUser]:
    """Users who have this number, written in any common form."""
    number = parse_phone(phone)
    if number is None:
        return []
    query = (
        select(EtunnusUser)
        .join(UserPhone, col(UserPhone.user_id) == col(EtunnusUser.id))
        .where(UserPhone.phone == number)
        .order_by(col(EtunnusUser.etunnus))
    )
    return list(session.exec(query).unique())


def like_escape(text: str) -> str:
    """Escape LIKE wildcards so that what the agent typed matches literally (ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(column: Any, text: str) -> ColumnElement[bool]:
    # ilike lowercases both sides; SQLite's lower() only knows ASCII, so the callers also
    # try the capitalised and lowercased forms of what was typed (Ä vs ä).
    return column.ilike(like_escape(text) + "%", escape="\\")  # type: ignore[no-any-return]


def _name_word(text: str) -> ColumnElement[bool]:
    variants = _unique([text, text.lower(), text.capitalize()])
    name = col(EtunnusUser.name)
    conditions = [_prefix(name, v) for v in variants]
    conditions += [name.ilike("% " + like_escape(v) + "%", escape="\\") for v in variants]
    conditions += [name.ilike("%-" + like_escape(v) + "%", escape="\\") for v in variants]
    return or_(*conditions)


def _phone_prefixes(query: str) -> list[str]:
    """E.164 prefixes a partly typed number may start (``040 12`` -> ``+3584012``)."""
    digits = re.sub(r"\D", "", query)
    if not digits:
        return []
    if query.strip().startswith("+"):
        return ["+" + digits]
    if query.strip().startswith("00"):
        return ["+" + digits[2:]]
    if digits.startswith("0"):
        return ["+358" + digits[1:]]
    return ["+" + digits, "+358" + digits]


def search(session: Session, q: str, *, limit: int = SEARCH_LIMIT) -> list[EtunnusUser]:
    """Users matching q: e-tunnus number, name words, email or phone, as prefixes.

    Case does not matter; ``%`` and ``_`` match literally; only the first
    ``MAX_SEARCH_TERMS`` words count. Exact e-tunnus numbers first,
    then by name.
    """
    text = " ".join(search_terms(q))
    if not text:
        return []
    conditions: list[ColumnElement[bool]] = []
    compact = re.sub(r"[\s()./-]", "", text)
    if re.fullmatch(r"\+?\d+", compact):
        phone_ids = select(UserPhone.user_id).where(
            or_(
                *[
                    col(UserPhone.phone).startswith(p, autoescape=True)
                    for p in _phone_prefixes(text)
                ]
            )
        )
        conditions.append(col(EtunnusUser.id).in_(phone_ids))
        if compact.isdigit() and len(compact) <= 6:
            conditions.append(col(EtunnusUser.etunnus).startswith(compact, autoescape=True))
        if len(compact) >= 5:
            # The end of a number is what people often read out ("...4567").
            ends = select(UserPhone.user_id).where(
                col(UserPhone.phone).endswith(compact.lstrip("+0"), autoescape=True)
            )
            conditions.append(col(EtunnusUser.id).in_(ends))
    else:
        conditions.append(and_(*[_name_word(word) for word in text.split(" ")]))
        if " " not in text:
            email_ids = select(UserEmail.user_id).where(_prefix(col(UserEmail.email), text.lower()))
            conditions.append(col(EtunnusUser.id).in_(email_ids))
    query = select(EtunnusUser).where(or_(*conditions)).order_by(col(EtunnusUser.name)).limit(limit)
    users = list(session.exec(query))
    users.sort(key=lambda u: u.etunnus != compact)
    return users


def list_users(session: Session, *, limit: int = 100, offset: int = 0) -> list[EtunnusUser]:
    """Users by name, a page at a time."""
    query = select(EtunnusUser).order_by(col(EtunnusUser.name), col(EtunnusUser.etunnus))
    return list(session.exec(query.offset(offset).limit(limit)))


# --- writing -------------------------------------------------------------------------


def _replace_rows(
    session: Session, user: EtunnusUser, emails: Sequence[str], phones: Sequence[str]
) -> None:
    assert user.id is not None
    old_emails = {
        row.email: row
        for row in session.exec(select(UserEmail).where(UserEmail.user_id == user.id))
    }
    for email, email_row in old_emails.items():
        if email not in emails:
            session.delete(email_row)
    for email in emails:
        if email not in old_emails:
            session.add(UserEmail(user_id=user.id, email=email))
    old_phones = {
        row.phone: row
        for row in session.exec(select(UserPhone).where(UserPhone.user_id == user.id))
    }
    for phone, phone_row in old_phones.items():
        if phone not in phones:
            session.delete(phone_row)
    for phone in phones:
        if phone not in old_phones:
            session.add(UserPhone(user_id=user.id, phone=phone))


def create_user(
    session: Session,
    *,
    etunnus: str,
    name: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    notes: str = "",
    by: Agent | None = None,
    source: str | None = None,
) -> EtunnusUser:
    """Create a user (audited, with ``source`` saying where they came from, e.g. ``import``)."""
    number = normalise_etunnus(etunnus)
    clean_name = " ".join(name.split())
    if not clean_name:
        raise ServiceError(N_("The name is missing"))
    email_list, phone_list = clean_emails(emails), clean_phones(phones)
    with transaction(session):
        if get_by_etunnus(session, number) is not None:
            raise Conflict(_("The e-tunnus number %(value)s is taken") % {"value": number})
        user = EtunnusUser(etunnus=number, name=clean_name[:200], notes=notes.strip())
        session.add(user)
        session.flush()
        _replace_rows(session, user, email_list, phone_list)
        audit.record(
            session,
            action="user.create",
            agent=by,
            object_type="user",
            object_id=number,
            name=user.name,
            emails=email_list,
            phones=phone_list,
            source=source,
        )
    return user


def update_user(
    session: Session,
    *,
    user: EtunnusUser,
    name: str | None = None,
    emails: Iterable[str] | None = None,
    phones: Iterable[str] | None = None,
    notes: str | None = None,
    by: Agent | None = None,
    source: str | None = None,
) -> bool:
    """Change a user's name, addresses, numbers or notes (None leaves a field alone).

    Audits what changed; returns whether anything did. A bad value changes nothing.
    """
    # Validate the values before touching the row.
    new_name = " ".join(name.split())[:200] if name is not None else None
    if new_name == "":
        raise ServiceError(N_("The name is missing"))
    given_emails = clean_emails(emails) if emails is not None else None
    given_phones = clean_phones(phones) if phones is not None else None
    with transaction(session):
        reread(session, user)
        new_name = new_name if new_name is not None else user.name
        new_notes = notes.strip() if notes is not None else user.notes
        old_emails, old_phones = emails_of(session, user), phones_of(session, user)
        new_emails = given_emails if given_emails is not None else old_emails
        new_phones = given_phones if given_phones is not None else old_phones
        changes: dict[str, Any] = {}
        if new_name != user.name:
            changes["name"] = {"old": user.name, "new": new_name}
        if new_notes != user.notes:
            changes["notes"] = {"old": user.notes, "new": new_notes}
        if set(new_emails) != set(old_emails):
            changes["emails"] = {"old": old_emails, "new": new_emails}
        if set(new_phones) != set(old_phones):
            changes["phones"] = {"old": old_phones, "new": new_phones}
        if not changes:
            return False
        user.name, user.notes = new_name, new_notes
        _replace_rows(session, user, new_emails, new_phones)
        user.updated_at = utcnow()
        session.add(user)
        audit.record(
            session,
            action="user.update",
            agent=by,
            object_type="user",
            object_id=user.etunnus,
            changes=changes,
            source=source,
        )
    return True
