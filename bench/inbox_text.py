"""Finnish customer-service mail for the inbox benchmark, generated from a seed.

The words follow a long-tailed distribution: a few (lasku, kiitos) appear in most
messages, compound words made of two nouns appear rarely, so full-text search is
measured against both common and rare terms, as an agent would type them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate


def _words(text: str) -> list[str]:
    return text.split()


def _phrases(text: str) -> list[str]:
    return text.split("|")


FIRST_NAMES = _words(
    "Matti Aino Juha Sanna Pekka Elina Mikko Laura Jari Minna Timo Anna Kari Johanna Antti "
    "Tiina Heikki Päivi Ville Satu Janne Katja Petri Hanna Markku Riikka Sami Outi Eero "
    "Noora Lauri Veera Tuomas Emilia Joonas Iida Aleksi Pirjo Risto Marjatta Olli Kaisa "
    "Esa Sari Harri Leena Teemu Maarit Arto Jenni"
)
SURNAMES = _words(
    "Virtanen Korhonen Mäkinen Nieminen Hämäläinen Laine Heikkinen Koskinen Järvinen "
    "Lehtonen Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen "
    "Salo Laitinen Tuominen Rantanen Karjalainen Jokinen Mattila Savolainen Lahtinen "
    "Ahonen Ojala Leppänen Väisänen Hiltunen Kallio Miettinen Leinonen Pitkänen Aaltonen "
    "Manninen Laaksonen Hirvonen Lindholm Anttila Räsänen Hakala Seppälä Toivonen Peltonen"
)
TOWNS = _words(
    "Helsinki Espoo Tampere Vantaa Oulu Turku Jyväskylä Lahti Kuopio Pori Joensuu "
    "Lappeenranta Hämeenlinna Vaasa Seinäjoki Rovaniemi Mikkeli Kotka Salo Porvoo Kokkola "
    "Hyvinkää Lohja Järvenpää Rauma Kajaani Savonlinna Nokia Kerava Iisalmi"
)
#: Where the customer is, as Finnish says it (Helsingissä, Tampereella: not "Helsinkissa").
IN_TOWN = _words(
    "Helsingissä Espoossa Tampereella Vantaalla Oulussa Turussa Jyväskylässä Lahdessa "
    "Kuopiossa Porissa Joensuussa Lappeenrannassa Hämeenlinnassa Vaasassa Seinäjoella "
    "Rovaniemellä Mikkelissä Kotkassa Salossa Porvoossa Kokkolassa Hyvinkäällä Lohjalla "
    "Järvenpäässä Raumalla Kajaanissa Savonlinnassa Nokialla Keravalla Iisalmessa"
)
TRADES = _words(
    "valokuvaus siivous remontti kirjanpito graafinen suunnittelu käännöspalvelu "
    "hieronta koulutus konsultointi puutarhanhoito musiikki ohjelmointi kuljetus "
    "tapahtumatuotanto verkkosivut kampaamo kiinteistöhuolto sisustus tilintarkastus "
    "ohjaus kuvitus toimitus äänitys videotuotanto catering"
)
# Nouns that also form compounds (laskutus+ohjelma = laskutusohjelma).
NOUNS = _words(
    "lasku viite maksu asiakas tili posti kirje summa päivä eräpäivä osoite yhteystieto "
    "palvelu tunnus salasana sähköposti puhelin viesti liite tiedosto kuitti arvonlisävero "
    "vero palkka työkorvaus kulu matka kilometri päiväraha ennakko perintä muistutus "
    "hyvitys palautus tilaus sopimus projekti työ tunti hinta alennus lisä tuote rivi "
    "kenttä lomake näkymä sivu raportti vuosi kuukausi viikko aamu ilta toimitus verkko "
    "yritys henkilö nimi numero koodi pankki kortti saldo rahasto vakuutus eläke laki"
)
VERBS = _words(
    "lähetin tein täytin tarkistin korjasin poistin lisäsin muutin päivitin kokeilin "
    "yritin latasin tallensin avasin huomasin sain löysin kirjauduin maksoin peruin"
)
PROBLEMS = _phrases(
    "ei ole vielä mennyt perille|näkyy yhä lähettämättömänä|palautui takaisin|"
    "meni väärään osoitteeseen|jäi luonnokseksi|ei näy asiakkaalla|on kadonnut listalta|"
    "näyttää väärää summaa|ei avaudu|on tuplana järjestelmässä|sai virheilmoituksen|"
    "jumittui käsittelyyn|ei päivity|tuli ilman liitettä"
)
QUESTIONS = _phrases(
    "Voisitteko tarkistaa asian?|Mitä minun pitäisi tehdä?|Miten tämä korjataan?|"
    "Onko tämä teidän päässänne vika?|Kauanko käsittely kestää?|Pitääkö minun lähettää uudestaan?|"
    "Saako laskun vielä perutuksi?|Voinko muuttaa toimitustapaa?|Milloin palkka maksetaan?|"
    "Tarvitsetteko minulta lisätietoja?"
)
METHODS = ("postitse", "sähköpostilla", "verkkolaskuna", "paperilaskuna")
MONTHS = _words(
    "tammikuussa helmikuussa maaliskuussa huhtikuussa toukokuussa kesäkuussa heinäkuussa "
    "elokuussa syyskuussa lokakuussa marraskuussa joulukuussa"
)
REPLIES = _phrases(
    "Kiitos viestistäsi.|Tarkistimme asian.|Lasku on nyt lähetetty eteenpäin.|"
    "Korjasimme osoitteen ja lähetimme laskun uudelleen.|Palkka maksetaan kahden pankkipäivän kuluessa.|"
    "Laskussa oli puutteellinen osoite, joten se palautui.|Pyydämme tarkentamaan asiakkaan tiedot.|"
    "Verkkolaskut eivät valitettavasti toimi vielä.|Hyvitys on kirjattu tilillesi.|"
    "Muistutus lähtee automaattisesti eräpäivän jälkeen.|Voit seurata laskun tilaa palvelussa.|"
    "Lähetimme sinulle uuden salasanan sähköpostiin."
)
NOTES = _phrases(
    "Soitin asiakkaalle, ei vastannut.|Tarkistettu Netvisorista, lähtenyt {date}.|"
    "Odotetaan asiakkaan vastausta.|Ohjattu kirjanpitoon.|Sama asia kuin edellisessä tiketissä.|"
    "Lasku {invoice} korjattava, osoite puuttuu.|Asiakas pyysi soittopyyntöä iltapäivällä."
)


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return list(accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


@dataclass
class FinnishMail:
    """A seeded generator of subjects, bodies and people for the benchmark."""

    seed: int = 42
    rng: random.Random = field(init=False)
    compounds: list[str] = field(init=False)
    compound_uses: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        pairs = [a + b for a in NOUNS for b in NOUNS if a != b]
        self.rng.shuffle(pairs)
        self.compounds = pairs
        self._compound_cum = _zipf_weights(len(pairs), 1.05)

    def compound(self) -> str:
        word = self.rng.choices(self.compounds, cum_weights=self._compound_cum)[0]
        self.compound_uses[word] = self.compound_uses.get(word, 0) + 1
        return word

    def person(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
        return first, last

    def company(self) -> str:
        first, last = self.person()
        town, trade = self.rng.choice(TOWNS), self.rng.choice(TRADES)
        return self.rng.choice(
            (
                f"{last} Oy",
                f"{town}n {trade.capitalize()} Oy",
                f"Tmi {first} {last}",
                f"{last} & Co",
            )
        )

    def invoice(self, etunnus: str | None) -> str:
        base = etunnus or str(self.rng.randint(100000, 199999))
        return f"{base}{self.rng.randint(1, 400):04d}"

    def date(self) -> str:
        return f"{self.rng.randint(1, 28)}.{self.rng.randint(1, 12)}.{self.rng.choice((2024, 2025, 2026))}"

    def subject(self, etunnus: str | None) -> str:
        r = self.rng
        options = (
            f"Lasku {self.invoice(etunnus)} {r.choice(PROBLEMS)}",
            f"Kysymys: {self.compound()}",
            f"{r.choice(NOUNS).capitalize()} {r.choice(PROBLEMS)}",
            f"Palkanmaksu {r.choice(MONTHS)}",
            f"Toimitustavan muutos ({r.choice(METHODS)})",
            f"Ongelma: {self.compound()} {r.choice(PROBLEMS)}",
            f"Asiakkaan {self.company()} osoite",
            "Salasana ei toimi",
            f"Uusi käyttäjä, {r.choice(TRADES)}",
        )
        return r.choice(options)

    def _sentence(self, etunnus: str | None) -> str:
        r = self.rng
        options = (
            f"{r.choice(VERBS).capitalize()} laskun {self.invoice(etunnus)} asiakkaalleni {self.company()} {self.date()}, mutta se {r.choice(PROBLEMS)}.",
            f"Asiakas {self.company()} kertoi, että {r.choice(NOUNS)} {r.choice(PROBLEMS)}.",
            f"{r.choice(VERBS).capitalize()} {self.compound()}-kohdan {r.choice(MONTHS)}, ja nyt {r.choice(NOUNS)} {r.choice(PROBLEMS)}.",
            f"Laskun summa oli {r.randint(20, 4000)},{r.randint(0, 99):02d} euroa ja eräpäivä {self.date()}.",
            f"Toimitustavaksi valitsin {r.choice(METHODS)}, koska asiakas on {r.choice(IN_TOWN)}.",
            f"Teen töitä alalla {r.choice(TRADES)} ja tarvitsen apua: {self.compound()}.",
            f"Viitenumero on {r.randint(10000, 99999999)} ja {r.choice(NOUNS)} näkyy väärin.",
            r.choice(QUESTIONS),
        )
        return r.choice(options)

    def incoming(self, name: str, etunnus: str | None) -> str:
        r = self.rng
        greeting = r.choice(("Hei,", "Moi,", "Hyvä asiakaspalvelu,", "Terve,", "Hei!"))
        body = " ".join(self._sentence(etunnus) for _ in range(r.randint(2, 6)))
        sign = f"Terveisin\n{name}" + (
            f"\ne-tunnus {etunnus}" if etunnus and r.random() < 0.5 else ""
        )
        return f"{greeting}\n\n{body}\n\n{sign}"

    def outgoing(self, customer_first: str, agent_name: str) -> str:
        r = self.rng
        body = " ".join(r.choice(REPLIES) for _ in range(r.randint(1, 4)))
        if r.random() < 0.4:
            body += " " + self._sentence(None)
        return (
            f"Hei {customer_first},\n\n{body}\n\n"
            f"Ystävällisin terveisin\n{agent_name}\nE-tunnus asiakaspalvelu"
        )

    def note(self, etunnus: str | None) -> str:
        return self.rng.choice(NOTES).format(date=self.date(), invoice=self.invoice(etunnus))

    def rare_words(self, limit: int = 20) -> list[str]:
        """The least used compounds (a few dozen messages each at full size)."""
        if self.compound_uses:
            ranked = sorted(self.compound_uses, key=lambda w: (self.compound_uses[w], w))
        else:  # nothing generated in this process: the tail of the Zipf ranking
            ranked = self.compounds[::-1]
        return ranked[:limit]
