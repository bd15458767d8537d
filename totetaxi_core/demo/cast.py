"""Who the demo's customers are and where they live: names, streets and the Hamptons' villages.

Plain data, drawn from by a seeded ``random.Random`` so a seed always gives the same month.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Charlotte", "Oliver", "Amelia", "James", "Sophia",
    "William", "Isabella", "Henry", "Mia", "Lucas", "Evelyn", "Theodore", "Harper", "Jack",
    "Eleanor", "Benjamin", "Margaret", "Alexander", "Grace", "Sebastian", "Caroline", "Julian",
    "Beatrice", "Nathaniel", "Vivian", "Arthur",
)  # fmt: skip

LAST_NAMES = (
    "Whitmore", "Van Buren", "Ashford", "Delacroix", "Kensington", "Pemberton", "Rutherford",
    "Sinclair", "Thornton", "Wainwright", "Beaumont", "Carrington", "Fairchild", "Harrington",
    "Lockwood", "Montgomery", "Prescott", "Sterling", "Vanderbilt", "Winslow", "Goldberg",
    "Okafor", "Nakamura", "Castellano", "Lindqvist", "O'Connell", "Rosenthal", "Abernathy",
)  # fmt: skip

#: Manhattan pickups: (street, postal code).
MANHATTAN = (
    ("200 E 62nd St", "10065"), ("1040 Park Ave", "10028"), ("15 Central Park W", "10023"),
    ("740 Park Ave", "10021"), ("160 W 66th St", "10023"), ("45 E 89th St", "10128"),
    ("1 Morton Sq", "10014"), ("70 Vestry St", "10013"), ("432 Park Ave", "10022"),
    ("211 Elizabeth St", "10012"), ("18 Gramercy Park S", "10003"), ("520 W 28th St", "10001"),
    ("101 Warren St", "10007"), ("995 Fifth Ave", "10028"), ("25 Sutton Pl S", "10022"),
)  # fmt: skip

#: Hamptons drop-offs: (street, village, postal code).
HAMPTONS = (
    ("12 Dune Rd", "Southampton", "11968"), ("88 Further Ln", "East Hampton", "11937"),
    ("41 Lily Pond Ln", "East Hampton", "11937"), ("7 Ocean Rd", "Bridgehampton", "11932"),
    ("150 Main St", "Sag Harbor", "11963"), ("25 Old Montauk Hwy", "Montauk", "11954"),
    ("300 Meadow Ln", "Southampton", "11968"), ("16 Gin Ln", "Southampton", "11968"),
    ("9 Apaquogue Rd", "East Hampton", "11937"), ("60 Sagaponack Rd", "Bridgehampton", "11932"),
)  # fmt: skip

NOTES = (
    "",
    "",
    "Doorman building; use the service entrance on the side street.",
    "Please call 15 minutes before arrival.",
    "Fragile: framed art in the blue boxes.",
    "Gate code at drop-off is 4471.",
)

FAILURE_REASONS = (
    "Customer not home at the window; no answer by phone.",
    "Building refused access: freight elevator booked.",
    "Road closed on Montauk Highway; van turned back.",
)

REFUND_REASONS = (
    "Goodwill: the drop-off ran two hours late.",
    "A box arrived with a crushed corner.",
    "Duplicate surcharge applied by mistake.",
)
