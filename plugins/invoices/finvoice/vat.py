"""VAT categories (UN/CEFACT 5305) as Finvoice 3.0 uses them, and what each one requires.

The implementation guideline (10.4) asks for the VatCode of UN/CEFACT code list 5305 and,
for every sale without VAT, the grounds in VatFreeText. EN 16931, which Finvoice 3.0
follows, gives each category its rules: S has a rate above 0 %; Z, E, AE, K and G have 0 %;
O has no rate at all; AE and K need the buyer's VAT number (also the guideline's data list,
BuyerOrganisationTaxCode). The VATEX codes name the exemption for machines (BT-121).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VatCategory:
    """One VAT category: its code, what it means, and the text the invoice carries."""

    code: str
    name_fi: str
    name_en: str
    #: VatFreeText by default (Finnish / English), empty for the standard rate.
    free_text: str = ""
    #: VatExemptionReasonCode (CEF VATEX) where one code fits every case of the category.
    exemption_code: str = ""


#: The categories a seller's invoice can use.
CATEGORIES: dict[str, VatCategory] = {
    category.code: category
    for category in (
        VatCategory("S", "normaali verokanta", "standard rate"),
        VatCategory(
            "Z",
            "nollaverokannan myynti",
            "zero rated",
            free_text="Nollaverokannan alainen myynti / Zero rated",
        ),
        VatCategory(
            "E",
            "veroton myynti",
            "exempt from VAT",
            free_text="Arvonlisäveroton myynti / Exempt from VAT",
        ),
        VatCategory(
            "AE",
            "käännetty verovelvollisuus",
            "reverse charge",
            free_text="Käännetty verovelvollisuus / VAT reverse charge",
            exemption_code="VATEX-EU-AE",
        ),
        VatCategory(
            "K",
            "yhteisömyynti",
            "intra-EU supply",
            free_text="Yhteisömyynti, veroton / Intra-community supply, VAT exempt",
            exemption_code="VATEX-EU-IC",
        ),
        VatCategory(
            "G",
            "vienti EU:n ulkopuolelle",
            "export outside the EU",
            free_text="Veroton vienti EU:n ulkopuolelle / Export outside the EU",
            exemption_code="VATEX-EU-G",
        ),
        VatCategory(
            "O",
            "ei arvonlisäveron piirissä",
            "outside the scope of VAT",
            free_text="Ei arvonlisäveron alainen / Not subject to VAT",
            exemption_code="VATEX-EU-O",
        ),
    )
}

#: Every UN/CEFACT 5305 (D.16B) duty/tax category code, and the Finnish purchase codes the
#: guideline lists (ZEG, ZES): what a received message may carry.
UNCL5305: frozenset[str] = frozenset(
    {"A", "AA", "AB", "AC", "AD", "AE", "B", "C", "E", "G", "H", "K", "L", "M", "O", "S", "Z"}
    | {"ZEG", "ZES"}
)
#: Categories whose grounds the invoice must state (guideline 10.4; EN 16931 BR-*-10).
NEEDS_GROUNDS: frozenset[str] = frozenset({"E", "AE", "K", "G", "O"})
#: Categories that need the buyer's VAT number (the data list, BuyerOrganisationTaxCode).
NEEDS_BUYER_VAT_NUMBER: frozenset[str] = frozenset({"AE", "K"})
#: Categories of 0 % sales (a rate, when given, must be 0).
ZERO_RATED: frozenset[str] = frozenset({"Z", "E", "AE", "K", "G"})
