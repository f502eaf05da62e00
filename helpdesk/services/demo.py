"""Demo data for ``make run``: two mailboxes, E-tunnus users, ~30 Finnish tickets, an admin.

Idempotent: a second run adds nothing that exists already.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.models import (
    Agent,
    AuditEvent,
    Channel,
    EtunnusUser,
    Mailbox,
    MessageKind,
    Ticket,
    TicketStatus,
    UserEmail,
    UserPhone,
    utcnow,
)
from helpdesk.plugins import hook
from helpdesk.services import (
    agents,
    audit,
    demo_calls,
    mailboxes,
    saved_replies,
    tags,
    ticket_clocks,
    tickets,
)

DEMO_ADMIN_EMAIL = "admin@e-tunnus.fi"
DEMO_ADMIN_PASSWORD = "demo-salasana"  # noqa: S105 - printed by `make run` for the demo only
DEMO_AGENT_EMAIL = "liisa@e-tunnus.fi"

MAILBOXES = [
    (
        "asiakaspalvelu@e-tunnus.fi",
        "E-tunnus asiakaspalvelu",
        "Ystävällisin terveisin\nE-tunnus asiakaspalvelu\nasiakaspalvelu@e-tunnus.fi",
    ),
    ("info@e-tunnus.fi", "E-tunnus", "Terveisin\nE-tunnus\ninfo@e-tunnus.fi"),
    # Emailed invoices go out from laskut@ (the invoice plugin's sender mailbox).
    ("laskut@e-tunnus.fi", "E-tunnus laskutus", "E-tunnus\nlaskut@e-tunnus.fi"),
]
#: The demo mailboxes send through ``helpdesk mail-sink``, which ``make run`` starts; its
#: port is chosen at each start (``point_at_mail_sink``), 8025 only until then.
DEMO_SMTP: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": 8025, "smtp_security": "none"}

USERS = [
    ("100102", "Matti Virtanen", ["matti.virtanen@example.fi"], ["+358401234567"]),
    (
        "100233",
        "Aino Korhonen",
        ["aino.korhonen@example.fi", "aino@example.com"],
        ["+358501112233"],
    ),
    ("100345", "Juha Mäkinen", ["juha.makinen@example.fi"], ["+358442223344"]),
    ("100478", "Sanna Nieminen", ["sanna.nieminen@example.fi"], ["+358405556677"]),
    ("100512", "Pekka Hämäläinen", ["pekka.hamalainen@example.com"], []),
    ("100689", "Elina Laine", ["elina.laine@example.fi"], ["+358458889900"]),
]

# (subject, etunnus or None, customer name, address, mailbox index, [(kind, text)], status)
CONVERSATIONS: list[tuple[str, str | None, str, str, int, list[tuple[str, str]], str]] = [
    (
        "Lasku 1001020007 ei ole lähtenyt",
        "100102",
        "Matti Virtanen",
        "matti.virtanen@example.fi",
        0,
        [
            (
                "in",
                "Hei,\n\ntein kolme päivää sitten laskun 1001020007 (765,55 €) asiakkaalleni "
                "Rakennus Virtanen & Poika Oy:lle, mutta se näkyy yhä lähettämättömänä. "
                "Voisitteko tarkistaa?\n\nTerveisin\nMatti Virtanen\ne-tunnus 100102",
            ),
            (
                "note",
                "Lasku 1001020007 on lähettämättömien jonossa (postilasku). Tänään tullut "
                "1001020009 on samalle asiakkaalle samalla summalla: kysytään Matilta, "
                "onko se kaksoiskappale, ennen kuin kumpikaan lähtee.",
            ),
        ],
        "open",
    ),
    (
        "Viitenumero väärin?",
        "100233",
        "Aino Korhonen",
        "aino.korhonen@example.fi",
        0,
        [
            (
                "in",
                "Hei! Asiakkaani Äijälä Öljy Oy sanoo, että laskun 1002330012 viitenumero "
                "10023300120 ei kelpaa verkkopankissa. Mitä teen?\n\nAino",
            ),
            (
                "note",
                "Tarkistettu: viitenumero on oikein. Asiakas kopioi sen laskulta "
                "ryhmiteltynä, ja sen pankki vaatii välilyönnit pois.",
            ),
        ],
        "open",
    ),
    (
        "Sähköpostilaskun vastaanottaja vaihtunut",
        "100345",
        "Juha Mäkinen",
        "juha.makinen@example.fi",
        0,
        [
            (
                "in",
                "Moi,\n\nlaskusta 1003450004 (195,78 €) asiakkaalle Kaisa Lehtonen "
                "puuttuu sähköpostiosoite: se on kaisa.lehtonen@example.com. Laskua ei ole "
                "vielä lähetetty, ehtiikö lisätä?\n\nJuha Mäkinen",
            ),
        ],
        "open",
    ),
    (
        "Kysymys arvonlisäverosta",
        "100478",
        "Sanna Nieminen",
        "sanna.nieminen@example.fi",
        1,
        [
            (
                "in",
                "Hei,\n\nkäytetäänkö koulutuspalveluissa 25,5 % vai 13,5 % alv:tä? "
                "Laskutan ensi viikolla.\n\nSanna",
            ),
            (
                "out",
                "Hei Sanna,\n\nkoulutuspalvelut ovat yleensä yleisen verokannan (25,5 %) "
                "alaisia, ellei kyse ole arvonlisäverottomasta koulutuksesta. "
                "Tarkistathan tapauksesi Verohallinnon ohjeista.",
            ),
        ],
        "pending",
    ),
    (
        "Verkkolasku ei mene perille",
        "100478",
        "Sanna Nieminen",
        "sanna.nieminen@example.fi",
        0,
        [
            (
                "in",
                "Hei, tein verkkolaskun Metsä-Pirkka Ky:lle, mutta he eivät ole saaneet sitä. "
                "Verkkolaskuosoite on 003732981050. Lasku 1004780022 (542,16 €).\n\n- Sanna",
            ),
            (
                "note",
                "Laskulta puuttuu välittäjätunnus, joten se ei ole lähtenyt. Kysytään "
                "asiakkaalta operaattori; verkkolaskut lähetetään Maventan kautta.",
            ),
        ],
        "open",
    ),
    (
        "Laskun summa väärin",
        "100512",
        "Pekka Hämäläinen",
        "pekka.hamalainen@example.com",
        0,
        [
            (
                "in",
                "Hei, laskuni 1005120006 loppusumma näkyy 2085,00 €, vaikka rivien mukaan "
                "sen pitäisi olla 2058,20 €. Voitteko korjata ennen lähetystä?\n\n- Pekka",
            ),
        ],
        "open",
    ),
    (
        "Tilin avaaminen",
        None,
        "Kalle Salminen",
        "kalle.salminen@example.com",
        1,
        [
            (
                "in",
                "Hei,\n\nmiten pääsen aloittamaan laskuttamisen E-tunnuksella? Olen "
                "valokuvaaja enkä halua perustaa yritystä.\n\nKalle Salminen",
            ),
        ],
        "open",
    ),
    (
        "Palkkalaskelma puuttuu",
        "100689",
        "Elina Laine",
        "elina.laine@example.fi",
        0,
        [
            (
                "in",
                "Hei, en ole saanut palkkalaskelmaa laskusta, jonka asiakkaani maksoi "
                "viime viikolla. Voisitteko lähettää sen?\n\nElina Laine\ne-tunnus 100689",
            ),
            (
                "out",
                "Hei Elina,\n\npalkkalaskelma lähetetään, kun maksu on kirjautunut. "
                "Tarkistamme tilanteen ja palaamme asiaan.",
            ),
        ],
        "pending",
    ),
    (
        "Automaattinen vastaus: Lasku 1001020006",
        None,
        "Liisa Laaksonen",
        "liisa.laaksonen@example.com",
        1,
        [
            (
                "auto",
                "Olen lomalla 1.12. asti. Kiireellisissä asioissa ota yhteyttä "
                "toimisto@example.com.",
            ),
        ],
        "closed",
    ),
    (
        "Laskun hyvitys",
        "100233",
        "Aino Korhonen",
        "aino@example.com",
        0,
        [
            (
                "in",
                "Hei, tein virheen laskuun 1002330014 (1840,00 €): merkitsin 20 tuntia, kun "
                "niitä oli 18. Voiko laskun hyvittää ja tehdä uuden?\n\nAino Korhonen",
            ),
        ],
        "open",
    ),
    (
        "Yhteystietojen päivitys",
        "100345",
        "Juha Mäkinen",
        "juha.makinen@example.fi",
        1,
        [
            ("in", "Puhelinnumeroni on vaihtunut: 044 222 3344. Päivittäkää tietoihin, kiitos."),
            ("out", "Kiitos, päivitimme puhelinnumerosi."),
        ],
        "closed",
    ),
]

FILLER_SUBJECTS = [
    "Kysymys laskun eräpäivästä",
    "Kilometrikorvaukset",
    "Laskun peruutus",
    "Maksu myöhässä",
    "Muistutuslasku asiakkaalle",
    "Kevytyrittäjän vakuutus",
    "Tilinumeron muutos",
    "Ennakkoperintärekisteri",
    "Työkorvaus vai palkka?",
    "Laskun kieli ruotsiksi",
    "Liitteen lisääminen laskuun",
    "Laskun kopio",
    "Palvelumaksu",
    "Salasana unohtunut",
    "Osoitteenmuutos",
    "Laskun lähetys ulkomaille",
    "YEL-vakuutus",
    "Kuitin lähettäminen",
    "Verokortin päivitys",
    "Asiakkaan Y-tunnus puuttuu",
]
FILLER_BODY = "Hei,\n\n{q}\n\nKiitos avusta!\n{name}"
FILLER_QUESTIONS = [
    "Voiko laskun eräpäivää siirtää viikolla eteenpäin?",
    "Miten kilometrikorvaukset lisätään laskulle?",
    "Haluaisin perua eilen lähettämäni laskun, onnistuuko se vielä?",
    "Asiakkaani ei ole maksanut laskua ajoissa. Mitä nyt tehdään?",
    "Pitääkö minun toimittaa uusi verokortti, kun tulorajani muuttui?",
    "Miten saan laskulle liitteen mukaan?",
]


def _marker(session: Session) -> bool:
    return (
        session.exec(select(AuditEvent).where(AuditEvent.action == "demo.seeded")).first()
        is not None
    )


def point_at_mail_sink(session: Session, port: int) -> int:
    """Have the demo mailboxes that send to the local sink send to the one on ``port``
    (``helpdesk dev`` picks it at start); returns how many changed. One short unit."""
    changed = 0
    with transaction(session):
        for address, _name, _signature in MAILBOXES:
            box = mailboxes.by_address(session, address)
            local = box is not None and box.smtp_host == DEMO_SMTP["smtp_host"]
            if box is not None and local and box.smtp_port != port:
                box.smtp_port = port
                session.add(box)
                changed += 1
    return changed


def seed(session: Session) -> dict[str, Any]:
    """Create the demo data once; returns what exists."""
    created: dict[str, Any] = {"admin": DEMO_ADMIN_EMAIL}
    admin = agents.get_by_email(session, DEMO_ADMIN_EMAIL) or agents.create_agent(
        session,
        email=DEMO_ADMIN_EMAIL,
        name="Anna Aaltonen",
        password=DEMO_ADMIN_PASSWORD,
        admin=True,
    )
    liisa = agents.get_by_email(session, DEMO_AGENT_EMAIL) or agents.create_agent(
        session, email=DEMO_AGENT_EMAIL, name="Liisa Lehtonen", password=DEMO_ADMIN_PASSWORD
    )
    boxes: list[Mailbox] = []
    for address, name, signature in MAILBOXES:
        box = mailboxes.by_address(session, address) or mailboxes.add_mailbox(
            session, address=address, display_name=name, signature=signature, **DEMO_SMTP
        )
        if not box.smtp_host:  # seeded before the demo had a mail sink
            with transaction(session):
                for key, value in DEMO_SMTP.items():
                    setattr(box, key, value)
                session.add(box)
        boxes.append(box)
    users: dict[str, EtunnusUser] = {}
    with transaction(session):
        for etunnus, name, emails, phones in USERS:
            user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == etunnus)).first()
            if user is None:
                user = EtunnusUser(etunnus=etunnus, name=name)
                session.add(user)
                session.flush()
                for email in emails:
                    session.add(UserEmail(user_id=user.id or 0, email=email))
                for phone in phones:
                    session.add(UserPhone(user_id=user.id or 0, phone=phone))
            users[etunnus] = user
    if not _marker(session):
        with transaction(session):
            created["tickets"] = _seed_tickets(session, boxes, users, [admin, liisa])
            audit.record(session, action="demo.seeded", object_type="demo")
    created["saved_replies"] = saved_replies.seed_examples(session, by=admin)
    created["calls"] = demo_calls.seed_calls(session, users, liisa)
    created["tags"] = _seed_tags(session, admin)
    hook().helpdesk_demo_data(session=session)
    created["mailboxes"] = [b.address for b in boxes]
    created["users"] = sorted(users)
    return created


#: Demo tags: a name, its colour, and a word of the subjects of the tickets that get it.
DEMO_TAGS = [("Lasku", "#0b5cad", "lasku"), ("Verkkolasku", "#1e7d34", "verkkolasku")]


def _seed_tags(session: Session, admin: Agent) -> int:
    """Tag the demo's invoice tickets, once (a tag that exists is left as it is)."""
    added = 0
    for name, colour, word in DEMO_TAGS:
        if tags.find(session, name) is not None:
            continue
        found = list(
            session.exec(
                select(Ticket)
                .where(col(Ticket.subject).ilike(f"%{word}%"))
                .order_by(col(Ticket.id))
                .limit(20)
            )
        )
        tag = tags.create(session, name=name, colour=colour, by=admin)
        added += tags.tag_tickets(session, tickets=found, name=tag.name, by=admin)[1]
    return added


def _seed_tickets(
    session: Session, boxes: list[Mailbox], users: dict[str, EtunnusUser], team: list[Agent]
) -> int:
    rng = random.Random(20261126)  # the same demo every time
    now = utcnow()
    conversations = list(CONVERSATIONS)
    user_list = list(USERS)
    for i, subject in enumerate(FILLER_SUBJECTS):
        known_etunnus, name, emails, _phones = user_list[i % len(user_list)]
        known = i % 4 != 3
        conversations.append(
            (
                subject,
                known_etunnus if known else None,
                name if known else "Tuntematon lähettäjä",
                emails[0] if known else f"kysyja{i}@example.com",
                i % 2,
                [
                    (
                        "in",
                        FILLER_BODY.format(
                            q=FILLER_QUESTIONS[i % len(FILLER_QUESTIONS)], name=name
                        ),
                    )
                ]
                + (
                    [("out", "Hei,\n\nkiitos viestistä. Selvitämme asian ja palaamme pian.")]
                    if i % 3 == 0
                    else []
                ),
                ["open", "pending", "closed", "open"][i % 4],
            )
        )
    count = 0
    for index, (subject, etunnus, name, address, box, steps, status) in enumerate(conversations):
        start = now - timedelta(hours=3 + index * 7 + rng.randint(0, 5), minutes=rng.randint(0, 59))
        mailbox = boxes[box]
        ticket = tickets.open_ticket(
            session,
            subject=subject,
            mailbox=mailbox,
            channel=Channel.email,
            customer_email=address,
            customer_name=name,
            user=users.get(etunnus) if etunnus else None,
            created_at=start,
        )
        when = start
        for kind, text in steps:
            agent = team[index % len(team)]
            if kind in ("in", "auto"):
                tickets.add_message(
                    session,
                    ticket=ticket,
                    kind=MessageKind.incoming,
                    text=text,
                    from_name=name,
                    from_address=address,
                    to=[mailbox.address],
                    subject=subject,
                    created_at=when,
                    message_id=f"demo-{index}-{when.timestamp():.0f}@example.com",
                    flags=["auto_reply"] if kind == "auto" else [],
                    counts_as_activity=True,
                )
            elif kind == "out":
                body = f"{text}\n\n{mailbox.signature}"
                message = tickets.add_message(
                    session,
                    ticket=ticket,
                    kind=MessageKind.outgoing,
                    text=body,
                    author=agent,
                    from_name=mailbox.display_name,
                    from_address=mailbox.address,
                    to=[address],
                    subject=f"Re: {subject} [#{ticket.number}]",
                    created_at=when,
                )
                message.delivery_status = None  # demo history, never sent anywhere
            else:
                tickets.add_message(
                    session,
                    ticket=ticket,
                    kind=MessageKind.note,
                    text=text,
                    author=agent,
                    created_at=when,
                )
            when += timedelta(minutes=rng.randint(20, 300))
        ticket_clocks.note_status(ticket, old=ticket.status, new=status, at=when)
        ticket.status = TicketStatus(status)
        if steps[0][0] == "auto":
            ticket.flags = ["auto_reply"]
        ticket.assignee_id = team[index % len(team)].id if index % 3 else None
        session.add(ticket)
        count += 1
    return count
