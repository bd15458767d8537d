"""The address normaliser (``totetaxi_core.addresses``): what a careful clerk standardises and
what cannot be an address (issue 13, defect B). The endpoints using it are tested in
``test_address_standardising.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from totetaxi_core.addresses import (
    AddressProblem,
    normalise_field,
    normalise_line,
    normalise_postal_code,
    normalise_state,
)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ny", "NY"),
        (" ny ", "NY"),
        ("Ny", "NY"),
        ("N.Y.", "NY"),
        ("New York", "NY"),
        ("new  york", "NY"),
        ("NEW YORK", "NY"),
        ("ct", "CT"),
        ("Washington, D.C.", "DC"),
        ("Puerto Rico", "PR"),
    ],
)
def test_a_state_in_any_case_or_by_name_is_its_code(typed, code):
    assert normalise_state(typed) == code


@pytest.mark.parametrize("typed", ["XX", "N", "NYC", "Narnia", "", "1", "New Yrok"])
def test_an_unknown_state_is_refused(typed):
    with pytest.raises(AddressProblem) as refused:
        normalise_state(typed)
    assert refused.value.field == "state"
    assert "two-letter state code" in refused.value.message


@pytest.mark.parametrize(
    ("typed", "zip_code"),
    [
        ("11968", "11968"),
        ("11968-1234", "11968-1234"),
        ("11968 1234", "11968-1234"),
        ("119681234", "11968-1234"),
        ("11968 - 1234", "11968-1234"),
    ],
)
def test_zip_and_zip_plus_4_in_any_spelling(typed, zip_code):
    assert normalise_postal_code(typed) == zip_code


@pytest.mark.parametrize(
    "typed", ["1196", "119689", "11968-12", "abcde", "00000", "", "１１９６８", "11968-12345"]
)
def test_a_zip_that_is_not_5_digits_or_zip_plus_4_is_refused(typed):
    with pytest.raises(AddressProblem) as refused:
        normalise_postal_code(typed)
    assert refused.value.field == "postal_code"


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("12 Dune Road", "12 Dune Rd"),
        ("12 dune road", "12 Dune Rd"),
        ("12 DUNE ROAD", "12 DUNE RD"),  # capitals are the Post Office's own style
        ("12   Dune\tRd.", "12 Dune Rd"),
        ("200 East 62nd Street", "200 E 62nd St"),
        ("200 e 62ND st", "200 E 62nd St"),
        ("1 Park Avenue South", "1 Park Ave S"),
        ("12 Main Street, Apartment #5b", "12 Main St Apt 5B"),
        ("12 Main Street #5", "12 Main St #5"),
        ("40 Ocean Boulevard", "40 Ocean Blvd"),
        ("9 Sagg Main Lane", "9 Sagg Main Ln"),
        ("3 Lily Pond Drive", "3 Lily Pond Dr"),
        ("p.o. box 12", "PO Box 12"),
        # Not in suffix position: part of the name, kept.
        ("1 Avenue of the Americas", "1 Avenue of the Americas"),
        ("10 Avenue C", "10 Avenue C"),
        ("12 West End Avenue", "12 West End Ave"),
        ("100 Broadway", "100 Broadway"),
        ("12 JFK Boulevard", "12 JFK Blvd"),  # the customer's capitals are theirs
    ],
)
def test_street_lines_are_standardised_as_usps_publication_28_abbreviates(typed, standard):
    assert normalise_line(typed) == standard
    assert normalise_line(standard) == standard


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("apartment 5b", "Apt 5B"),
        ("Suite  200", "Ste 200"),
        ("Floor 3", "Fl 3"),
        ("c/o Dana  Reyes", "c/o Dana Reyes"),  # free text keeps its case
        ("", ""),
    ],
)
def test_the_second_line_standardises_a_unit_only(typed, standard):
    assert normalise_line(typed, "line2") == standard


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("line1", "   "),
        ("line1", "123"),
        ("line1", "---"),
        ("line1", "!!"),
        ("city", "10065"),
        ("city", "..."),
    ],
)
def test_what_cannot_be_an_address_is_refused_naming_the_field(field, typed):
    with pytest.raises(AddressProblem) as refused:
        normalise_field(field, typed)
    assert refused.value.field == field and refused.value.message


WORDS = st.sampled_from(
    [
        "12",
        "200",
        "62nd",
        "62ND",
        "5b",
        "#5",
        "Dune",
        "dune",
        "DUNE",
        "Road",
        "rd.",
        "Street",
        "ST",
        "Avenue",
        "of",
        "the",
        "East",
        "north",
        "S",
        "Apartment",
        "apt",
        "Suite",
        "p.o.",
        "box",
        "McLean",
        "o'neil",
        "wilkes-barre",
        "C",
        ",",
    ]
)


@settings(max_examples=300, deadline=None, database=None)
@given(words=st.lists(WORDS, min_size=1, max_size=7), field=st.sampled_from(["line1", "line2"]))
def test_standardising_is_idempotent(words, field):
    text = " ".join(words)
    try:
        once = normalise_line(text, field)
    except AddressProblem:
        return
    assert normalise_line(once, field) == once
    assert len(once) <= len(text)
