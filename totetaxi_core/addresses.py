"""US postal addresses, standardised as a careful clerk would, never refused for their case.

Every schema that takes an address (a booking's pickup and delivery, the staff edit of a booking,
a customer's saved addresses) builds on :class:`AddressFields` or :class:`AddressPatchFields`:
each field is read as typed, then :func:`normalise_field` standardises it —

- whitespace collapsed everywhere;
- ``state``: a two-letter USPS code in any case (" ny " → ``NY``, "N.Y." → ``NY``) or the full
  name ("New York" → ``NY``); an unknown state is refused;
- ``postal_code``: five digits, or ZIP+4 however it is separated ("11968 1234", "119681234" →
  ``11968-1234``); anything else is refused;
- ``line1`` and ``line2``: the street suffix in suffix position ("12 Dune Road" → "12 Dune Rd"),
  a directional after the suffix or before a numbered street ("East 62nd Street" → "E 62nd St"),
  a secondary unit designator ("Apartment 5b" → "Apt 5B"), each as USPS Publication 28
  abbreviates it; ``line1`` must hold a letter (a street has a name);
- ``line1`` or ``city`` typed all in lower case is capitalised ("southampton" →
  "Southampton"); typed in capitals it is kept in capitals (the Post Office's own style), its
  abbreviations too; any other casing is the customer's and is kept (``line2``, often free text
  such as "c/o Dana", keeps its case but for a unit's abbreviation and number).

The standard form is what the address's columns hold, so equal addresses compare equal (and a
re-submitted form changes nothing); the text as typed is kept beside it (``as_typed``) for
display. Normalising is idempotent: a standard form normalises to itself.

The rules are deterministic word lists rather than a statistical parser (``usaddress``): a
suffix is abbreviated only where it cannot be part of the name ("Avenue of the Americas" and
"Avenue C" stay as they are), and a misparse is never stored in place of what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import colander

from .api.schemas import CleanString, shown

#: The parts of an address, in the order they are written.
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code")

#: How a form labels each part.
ADDRESS_LABELS = {
    "line1": "Street",
    "line2": "Apartment, floor",
    "city": "City",
    "state": "State",
    "postal_code": "ZIP code",
}

#: Longest accepted text of each part, as typed and once standardised.
LIMITS = {"line1": 200, "line2": 200, "city": 100, "state": 40, "postal_code": 20}

#: USPS two-letter codes (Publication 28, Appendix B): states, DC, territories, military.
STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming", "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico", "VI": "Virgin Islands", "FM": "Federated States of Micronesia",
    "MH": "Marshall Islands", "PW": "Palau", "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}  # fmt: skip
_STATE_NAMES = {name.casefold(): code for code, name in STATES.items()} | {
    "washington dc": "DC",
    "washington d c": "DC",
    "us virgin islands": "VI",
}


def _table(groups: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """``{standard: (spellings...)}`` as ``{casefolded spelling: standard}``."""
    return {
        spelling.casefold(): standard
        for standard, spellings in groups.items()
        for spelling in (standard, *spellings)
    }


#: Common street suffixes (Publication 28, Appendix C1): the standard and the usual spellings.
SUFFIXES = _table(
    {
        "Aly": ("Alley", "Allee", "Ally"),
        "Ave": ("Avenue", "Av", "Aven", "Avenu", "Avn", "Avnue"),
        "Blvd": ("Boulevard", "Boul", "Boulv"),
        "Br": ("Branch",),
        "Brg": ("Bridge",),
        "Cir": ("Circle", "Circ", "Crcl"),
        "Ct": ("Court",),
        "Cres": ("Crescent",),
        "Ctr": ("Center", "Centre", "Cntr"),
        "Cv": ("Cove",),
        "Dr": ("Drive", "Driv", "Drv"),
        "Expy": ("Expressway", "Expw", "Expr", "Express"),
        "Fwy": ("Freeway", "Frwy"),
        "Hbr": ("Harbor",),
        "Hts": ("Heights", "Ht"),
        "Hwy": ("Highway", "Hiway", "Hway"),
        "Ln": ("Lane",),
        "Lndg": ("Landing",),
        "Loop": ("Loops",),
        "Pkwy": ("Parkway", "Parkwy", "Pky"),
        "Pl": ("Place",),
        "Plz": ("Plaza", "Plza"),
        "Pt": ("Point",),
        "Rd": ("Road",),
        "Rdg": ("Ridge",),
        "Rte": ("Route",),
        "Sq": ("Square", "Sqr"),
        "St": ("Street", "Str", "Strt"),
        "Ter": ("Terrace", "Terr"),
        "Tpke": ("Turnpike", "Tpk", "Trnpk", "Turnpk"),
        "Trl": ("Trail", "Trails"),
        "Way": ("Wy",),
        "Xing": ("Crossing", "Crssng"),
    }
)
#: Directionals (Publication 28, Appendix C1 §233).
DIRECTIONALS = _table(
    {
        "N": ("North",),
        "S": ("South",),
        "E": ("East",),
        "W": ("West",),
        "NE": ("Northeast",),
        "NW": ("Northwest",),
        "SE": ("Southeast",),
        "SW": ("Southwest",),
    }
)
#: Secondary unit designators (Publication 28, Appendix C2).
UNITS = _table(
    {
        "Apt": ("Apartment",),
        "Bldg": ("Building",),
        "Dept": ("Department",),
        "Fl": ("Floor",),
        "Ph": ("Penthouse",),
        "Rm": ("Room",),
        "Ste": ("Suite",),
        "Unit": (),
    }
)
#: Words kept in lower case when a field typed in lower case is capitalised.
_MINOR_WORDS = frozenset({"of", "the", "and", "at", "on", "by", "in", "to"})
_ORDINAL = re.compile(r"^[0-9]+(?:st|nd|rd|th)$", re.IGNORECASE)
_ZIP = re.compile(r"^([0-9]{5})(?:[ \-]*([0-9]{4}))?$")
_PO_BOX = re.compile(r"^(?:p\.?\s*o\.?|post\s+office)\s*box\b", re.IGNORECASE)


class AddressProblem(ValueError):
    """A value that cannot be part of an address, with the sentence that says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bare(word: str) -> str:
    """A word without the punctuation a typist adds around it ("St.", "Road,")."""
    return word.rstrip(".,").casefold()


def _cased(standard: str, style: str) -> str:
    """A standard abbreviation in the field's style (capitals in a field typed in capitals)."""
    return standard.upper() if style == "upper" else standard


def _style(words: list[str]) -> str:
    """``"lower"`` or ``"upper"`` when every letter of the words is so, else ``"mixed"``.

    Words starting with a digit ("62nd", "5B") do not count: their case is the normaliser's, so
    a second pass must see the same style as the first.
    """
    text = " ".join(word for word in words if not word[:1].isdigit())
    if text == text.lower() and text != text.upper():
        return "lower"
    if text == text.upper() and text != text.lower():
        return "upper"
    return "mixed"


def _capitalised(word: str, first: bool) -> str:
    """One word of a field typed in lower case, as a careful clerk writes it."""
    if word[:1].isdigit():
        # "62nd" is an ordinal, "12b" a house or unit number: "12B".
        return word.lower() if _ORDINAL.match(word) else word.upper()
    if not first and word in _MINOR_WORDS:
        return word
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def _recase(words: list[str], style: str) -> list[str]:
    if style == "lower":
        return [_capitalised(word, index == 0) for index, word in enumerate(words)]
    if style == "mixed":
        # Ordinals in a mixed field are written "62nd", never "62ND".
        return [word.lower() if _ORDINAL.match(word) else word for word in words]
    return words


def _unit(words: list[str], style: str) -> list[str]:
    """A secondary unit ("Apartment #5b") as "Apt 5B"; other words are left alone."""
    standard = UNITS.get(_bare(words[0])) if words else None
    if standard is None:
        return words
    rest = list(words[1:])
    if rest and rest[0].startswith("#") and len(rest[0]) > 1:
        rest[0] = rest[0][1:]  # "Apt #5" → "Apt 5": the designator already says what it is
    if rest and re.fullmatch(r"[0-9A-Za-z\-]{1,8}", rest[0]):
        if len(rest[0]) == 1 or any(char.isdigit() for char in rest[0]):
            rest[0] = rest[0].upper()  # "5b" → "5B"; a word ("Ground") keeps its case
    return [_cased(standard, style), *rest]


def _street(words: list[str], style: str) -> list[str]:
    """Abbreviate the suffix, a post-directional and a pre-directional of a numbered street.

    A word is a suffix only in suffix position: after at least one word of the name (not only
    the house number) and followed by nothing, a directional or a secondary unit. So "12 Dune
    Road" is "12 Dune Rd", while "1 Avenue of the Americas", "10 Avenue C" and "100 Avenue"
    keep their words.
    """
    words = list(words)
    unit_at = next(
        (
            i
            for i, word in enumerate(words)
            if i >= 2 and (_bare(word) in UNITS or word.startswith("#"))
        ),
        len(words),
    )
    street, unit = words[:unit_at], words[unit_at:]
    name_starts = 1 if street and street[0][:1].isdigit() else 0
    end = len(street)
    if (
        end - name_starts >= 3
        and _bare(street[-1]) in DIRECTIONALS
        and _bare(street[-2]) in SUFFIXES
    ):
        street[-1] = _cased(DIRECTIONALS[_bare(street[-1])], style)
        end -= 1
    if end - name_starts >= 2 and _bare(street[end - 1]) in SUFFIXES:
        street[end - 1] = _cased(SUFFIXES[_bare(street[end - 1])], style)
    if (
        len(street) - name_starts >= 2
        and _bare(street[name_starts]) in DIRECTIONALS
        and re.match(r"^[0-9]", street[name_starts + 1])
    ):
        street[name_starts] = _cased(DIRECTIONALS[_bare(street[name_starts])], style)
    return street + (_unit(unit, style) if unit else [])


def _words(text: str) -> list[str]:
    # Commas separate nothing a standard address needs; whitespace of any kind is one space.
    return text.replace(",", " ").split()


def normalise_state(text: str) -> str:
    """A state as its USPS code: " ny " → ``NY``, "N.Y." → ``NY``, "New York" → ``NY``."""
    compact = " ".join(text.replace(".", " ").replace(",", " ").split())
    code = compact.replace(" ", "").upper()
    if len(code) == 2 and code in STATES:
        return code
    found = _STATE_NAMES.get(compact.casefold())
    if found is None:
        raise AddressProblem(
            "state",
            f"{shown(text)} is not a US state: use the two-letter state code, e.g. NY.",
        )
    return found


def normalise_postal_code(text: str) -> str:
    """A ZIP code: ``11968``, or ZIP+4 written ``11968-1234`` however it was separated."""
    match = _ZIP.match(text.strip())
    if match is None or match.group(1) == "00000":
        raise AddressProblem(
            "postal_code", f"{shown(text)} is not a ZIP code: use 5 digits (or ZIP+4)."
        )
    five, four = match.groups()
    return f"{five}-{four}" if four else five


def normalise_line(text: str, field: str = "line1") -> str:
    """A street line (``line1``) or the second line (``line2``), standardised."""
    words = _words(text)
    if field == "line1":
        if not words:
            raise AddressProblem("line1", "Enter the street address, e.g. 12 Dune Rd.")
        if not any(char.isalpha() for char in text):
            raise AddressProblem(
                "line1", "A street address needs the street's name, not only a number."
            )
    if not words:
        return ""
    style = _style(words)
    if field == "line2":
        # Free text as often as a unit ("c/o Dana", "ring twice"): only a unit is standardised.
        return " ".join(_unit(words, style))
    joined = _PO_BOX.sub("PO BOX" if style == "upper" else "PO Box", " ".join(words))
    return " ".join(_street(_recase(joined.split(), style), style))


def normalise_city(text: str) -> str:
    """A city: whitespace collapsed, capitalised when typed in lower case."""
    words = text.split()
    if not any(char.isalpha() for char in text):
        raise AddressProblem("city", "Enter the city's name.")
    return " ".join(_recase(words, _style(words)))


def normalise_field(field: str, text: str) -> str:
    """The standard form of one part of an address; :class:`AddressProblem` if it cannot be."""
    if field in ("line1", "line2"):
        value = normalise_line(text, field)
    elif field == "city":
        value = normalise_city(text)
    elif field == "state":
        value = normalise_state(text)
    elif field == "postal_code":
        value = normalise_postal_code(text)
    else:
        raise KeyError(field)
    if len(value) > LIMITS[field]:
        raise AddressProblem(field, f"at most {LIMITS[field]} characters.")
    return value


def normalise_address(parts: Mapping[str, str]) -> tuple[dict[str, str], list[AddressProblem]]:
    """The standard form of the address parts present in ``parts``, and every problem found."""
    standard: dict[str, str] = {}
    problems: list[AddressProblem] = []
    for field in ADDRESS_FIELDS:
        if field in parts:
            try:
                standard[field] = normalise_field(field, parts[field])
            except AddressProblem as exc:
                problems.append(exc)
    return standard, problems


def as_typed_of(address: Any) -> dict[str, str]:
    """What the customer typed for an address row; its columns for a row stored before the
    text as typed was kept (they were stored exactly as typed then)."""
    typed = getattr(address, "as_typed", None) or {}
    return {field: typed.get(field, getattr(address, field) or "") for field in ADDRESS_FIELDS}


# --- the schemas ----------------------------------------------------------------------------------


class AddressPart(colander.SchemaNode):
    """One part of an address (named ``line1`` ... ``postal_code``): read as a trimmed JSON
    string, checked for length as typed, then standardised by :func:`normalise_field`.

    A part that cannot be an address is refused like any colander error, at its own path
    (``pickup_address.state``), with the other parts' problems, so the API's 400 and the
    console's form name every field at fault at once.
    """

    schema_type = CleanString

    def deserialize(self, cstruct: Any = colander.null) -> Any:
        value = super().deserialize(cstruct)
        if not isinstance(value, str):  # left out: the default or colander.drop
            return value
        try:
            return normalise_field(self.name, value)
        except AddressProblem as exc:
            raise colander.Invalid(self, exc.message) from None


class NormalisedAddress(colander.MappingSchema):
    """A mapping of :class:`AddressPart` nodes: the answer holds the standard parts and
    ``as_typed``, the parts sent as they came (trimmed), for display."""

    def deserialize(self, cstruct: Any = colander.null) -> Any:
        appstruct = super().deserialize(cstruct)
        if not isinstance(appstruct, dict) or not isinstance(cstruct, dict):
            return appstruct  # left out: None or colander.drop
        # Every part present was a string (its node checked it); one left out took its default.
        typed = {
            field: cstruct[field].strip() if field in cstruct else appstruct[field]
            for field in ADDRESS_FIELDS
            if field in appstruct
        }
        return {**appstruct, "as_typed": typed}


def _part(limit: int, *, required: bool, missing: Any = colander.required) -> AddressPart:
    return AddressPart(
        validator=colander.Length(min=1 if required else 0, max=limit), missing=missing
    )


class AddressFields(NormalisedAddress):
    """A whole address: ``line1``, ``line2`` (optional), ``city``, ``state``, ``postal_code``."""

    line1 = _part(LIMITS["line1"], required=True)
    line2 = _part(LIMITS["line2"], required=False, missing="")
    city = _part(LIMITS["city"], required=True)
    state = _part(LIMITS["state"], required=False)
    postal_code = _part(LIMITS["postal_code"], required=False)


class AddressPatchFields(NormalisedAddress):
    """Any subset of an address's parts (a PATCH body): each part sent is standardised."""

    line1 = _part(LIMITS["line1"], required=True, missing=colander.drop)
    line2 = _part(LIMITS["line2"], required=False, missing=colander.drop)
    city = _part(LIMITS["city"], required=True, missing=colander.drop)
    state = _part(LIMITS["state"], required=False, missing=colander.drop)
    postal_code = _part(LIMITS["postal_code"], required=False, missing=colander.drop)


__all__ = [
    "ADDRESS_FIELDS",
    "STATES",
    "AddressFields",
    "AddressPart",
    "AddressPatchFields",
    "AddressProblem",
    "NormalisedAddress",
    "as_typed_of",
    "normalise_address",
    "normalise_field",
    "normalise_line",
    "normalise_postal_code",
    "normalise_state",
]
