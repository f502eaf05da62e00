"""E-tunnus users: the people who invoice through the service, with their addresses and phones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field
from helpdesk.values import Line, Text


class EtunnusUserBase(SQLModel):
    """Fields shared by the table and the API shapes."""

    etunnus: str = Field(max_length=6, min_length=6, unique=True, index=True)
    name: str = Field(max_length=200)
    notes: str = ""


class EtunnusUser(EtunnusUserBase, table=True):
    """An E-tunnus user, identified by the 6-digit e-tunnus number."""

    __tablename__ = "etunnus_user"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class UserEmail(SQLModel, table=True):
    """One email address of a user (lowercased); shared addresses make linking ambiguous."""

    __tablename__ = "user_email"
    __table_args__ = (UniqueConstraint("user_id", "email", name="uq_user_email"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="etunnus_user.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, index=True)


class UserPhone(SQLModel, table=True):
    """One phone number of a user, normalised to E.164."""

    __tablename__ = "user_phone"
    __table_args__ = (UniqueConstraint("user_id", "phone", name="uq_user_phone"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="etunnus_user.id", index=True, ondelete="CASCADE")
    phone: str = Field(max_length=20, index=True)


class UserRead(SQLModel):
    """A user as the API shows it."""

    etunnus: str
    name: str
    emails: list[str]
    phones: list[str]
    notes: str


class UserCreate(SQLModel):
    """``POST /users``: a new user; phones in any common form, stored as E.164."""

    etunnus: Line
    name: Line
    emails: list[Line] = []
    phones: list[Line] = []
    notes: Text = ""


class UserUpdate(SQLModel):
    """``PATCH /users/{etunnus}``: only the fields given change; lists replace the old ones."""

    name: Line | None = None
    emails: list[Line] | None = None
    phones: list[Line] | None = None
    notes: Text | None = None
