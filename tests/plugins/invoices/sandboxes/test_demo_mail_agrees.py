"""The core demo's mails tell the same story as the Netvisor sandbox's invoices.

``make run`` shows both at once: a ticket about invoice 1001020007 from Matti Virtanen
(e-tunnus 100102) must find that invoice in the queue, his, with the sum the mail quotes.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from helpdesk.services import demo
from plugins.invoices.sandboxes.netvisor.data import (
    DEMO_USERS,
    SandboxInvoice,
    demo_customers,
    demo_invoices,
)

INVOICES = {
    invoice.invoice_number: invoice
    for invoice in demo_invoices(
        {c.netvisor_key: c for c in demo_customers()}, today=date(2026, 12, 4)
    )
}
USERS = {number: (name, emails) for number, name, emails, _phones in demo.USERS}
# Digit runs of a given length, not part of a longer number (nor of a phone number).
ETUNNUS = re.compile(r"(?<![\d+])\d{6}(?!\d)")
INVOICE = re.compile(r"(?<![\d+])\d{10}(?!\d)")
REFERENCE = re.compile(r"(?<![\d+])\d{11}(?!\d)")
EINVOICE_ADDRESS = re.compile(r"(?<![\d+])\d{12}(?!\d)")
EUROS = re.compile(r"(\d+(?:[ .]\d{3})*,\d{2}) €")


def euros(text: str) -> Decimal:
    return Decimal(text.replace(" ", "").replace(".", "").replace(",", "."))


def amounts(invoice: SandboxInvoice) -> set[Decimal]:
    """What a mail may quote: the invoice's total, or its rows' where they disagree."""
    return {invoice.amount, sum((row.gross for row in invoice.rows), Decimal(0))}


CONVERSATIONS = [
    pytest.param(subject, etunnus, name, address, f"{subject}\n" + "\n".join(t for _k, t in steps))
    for subject, etunnus, name, address, _box, steps, _status in demo.CONVERSATIONS
]


@pytest.mark.parametrize(("subject", "etunnus", "name", "address", "text"), CONVERSATIONS)
def test_every_number_and_sum_in_a_demo_mail_is_the_sandboxs(
    subject: str, etunnus: str | None, name: str, address: str, text: str
) -> None:
    if etunnus is not None:
        assert USERS[etunnus][0] == name and address in USERS[etunnus][1]
    for number in ETUNNUS.findall(text):
        assert number == etunnus, f"{subject}: e-tunnus {number} is not the sender's"
    mentioned = [INVOICES.get(number) for number in INVOICE.findall(text)]
    assert None not in mentioned, f"{subject}: an invoice the sandbox does not have"
    invoices = [invoice for invoice in mentioned if invoice is not None]
    for invoice in invoices:
        if etunnus is not None:
            assert invoice.etunnus_number == etunnus, f"{subject}: {invoice.invoice_number}"
        else:  # an auto-reply from the invoice's customer
            assert (invoice.customer.name, invoice.customer.email) == (name, address)
    references = {invoice.reference_number for invoice in invoices}
    assert set(REFERENCE.findall(text)) <= references, subject
    einvoice_addresses = {invoice.customer.finvoice_address for invoice in invoices}
    assert set(EINVOICE_ADDRESS.findall(text)) <= einvoice_addresses, subject
    quoted = EUROS.findall(text)
    assert len(quoted) == text.count("€"), f"{subject}: a sum without cents"
    allowed = set().union(*(amounts(invoice) for invoice in invoices))
    for amount in quoted:
        assert euros(amount) in allowed, f"{subject}: {amount} € is no mentioned invoice's"
    # A customer named in the mail is the customer of an invoice it mentions.
    customers = {invoice.customer.name for invoice in invoices}
    for customer in demo_customers():
        if customer.name in text and customer.name != name:
            assert customer.name in customers, f"{subject}: {customer.name}"


def test_the_demo_mails_talk_about_the_sandboxs_invoices() -> None:
    # The check above is no empty promise: the mails do quote invoices, sums and users.
    text = "\n".join(t for *_rest, steps, _status in demo.CONVERSATIONS for _k, t in steps)
    assert len(set(INVOICE.findall(text))) >= 6 and len(EUROS.findall(text)) >= 5
    assert set(ETUNNUS.findall(text)) >= {"100102"}


def test_the_sandboxs_users_are_the_core_demos() -> None:
    for user in DEMO_USERS:
        name, emails = USERS[user.number]
        assert user.name == name and user.email in emails
    owners = {invoice.etunnus_number for invoice in INVOICES.values()}
    assert owners - {"999901"} <= set(USERS)  # 999901: the planted unknown user
