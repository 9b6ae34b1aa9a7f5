"""The unified vocabulary every source is mapped onto: kinds, attendance, programs and types.

Meeting types use the Meeting Guide codes (data/meeting-guide-types/types.json, the de facto
standard across AA, Al-Anon and other 12-step lists). Codes we add for things that feed has no
code for (hearing loop, near transit, online...) are in ``EXTRA_TYPES`` with their own names.
"""

import json
import re
from functools import cache

from finder.paths import DATA_DIR


def N_(text: str) -> str:
    """Marks text for translation (``pybabel extract``); the site translates it when shown."""
    return text


TYPES_FILE = DATA_DIR / "meeting-guide-types" / "types.json"

KINDS = {
    "meeting": N_("Meeting"),
    "center": N_("Community or recovery center"),
    "peer_organization": N_("Peer-run organization"),
    "warmline": N_("Warmline"),
    "helpline": N_("Helpline"),
    "crisis_line": N_("Crisis line"),
    "online_forum": N_("Online forum"),
    "online_directory": N_("Online meetings directory"),
    "treatment": N_("Professional treatment"),
}

ATTENDANCE = ("in_person", "online", "hybrid", "inactive")
ATTENDANCE_NAMES = {
    "in_person": N_("In person"),
    "online": N_("Online"),
    "hybrid": N_("Hybrid: in person and online"),
    "inactive": N_("Temporarily not meeting"),
}

PROGRAMS = {
    "AA": N_("Alcoholics Anonymous"),
    "Al-Anon": N_("Al-Anon Family Groups"),
    "NA": N_("Narcotics Anonymous"),
    "SMART": N_("SMART Recovery"),
    "peer": N_("Peer support"),
    "community": N_("Community services"),
    "treatment": N_("Treatment"),
    "crisis": N_("Crisis support"),
}

FAMILY_PROGRAMS = ("Al-Anon",)  # for the families and friends of people who drink or use

# Category of every Meeting Guide code; codes not listed here are "format".
_CATEGORIES = {
    "openness": "O C",
    "audience": "BE BI G L LGBTQ M W NB T Y SEN POC N NDG P DD",
    "language": (
        "AF AM AR BG DA DE EL EN FA FI FR HE HI HR HU IS ITA JA KA KOR LT ML MT NE NL NO "
        "POL POR PUN RUS S SK SL SV TH TL TUR UK"
    ),
    "accessibility": "X XB ASL BA CF FF",
    "status": "TC ONL",
}

EXTRA_TYPES = {
    "LOOP": ("accessibility", "Hearing loop", "Bucle auditivo"),
    "TRANSIT": ("accessibility", "Near public transit", "Cerca de transporte público"),
    "PARKING": ("accessibility", "Accessible parking", "Estacionamiento accesible"),
    "RAMP": ("accessibility", "Ramp", "Rampa"),
    "ELEVATOR": ("accessibility", "Elevator", "Ascensor"),
    "BRAILLE": ("accessibility", "Braille", "Braille"),
    "NOSMOKE": ("format", "No smoking", "Prohibido fumar"),
    "NOKIDS": ("format", "No children", "Sin niños"),
    "IDREQ": ("format", "ID required to enter", "Se requiere identificación para entrar"),
    "CAMERAS": ("format", "Surveillance cameras", "Cámaras de vigilancia"),
    "QA": ("format", "Question and answer", "Preguntas y respuestas"),
    "BT": ("format", "Basic Text", "Texto Básico"),
    "JFT": ("format", "Just for Today", "Sólo por Hoy"),
    "IW": ("format", "It Works: How and Why", "Funciona: cómo y por qué"),
    "SWG": ("format", "Step Working Guide", "Guía para trabajar los pasos"),
    "LC": ("format", "Living Clean", "Vivir Limpio"),
    "IP": ("format", "Informational pamphlet", "Folleto informativo"),
    "RF": ("format", "Rotating format", "Formato rotativo"),
    "ILL": ("audience", "Chronic illness", "Enfermedad crónica"),
}

# What to expect, for the types people most often wonder about (shown on listing pages).
TYPE_EXPLANATIONS = {
    "O": N_("Open: anyone is welcome, including family, friends and anyone curious."),
    "C": N_(
        "Closed: for people who want help with their own drinking or drug use (at family "
        "groups such as Al-Anon, for people affected by someone else's). If you think you might "
        "be one of them, you are welcome."
    ),
    "BE": N_("Newcomer: especially for people who are new to recovery or to this fellowship."),
    "D": N_("Discussion: people share on a topic. You can just listen; nobody has to speak."),
    "SP": N_("Speaker: one or more members tell their story, then the group may share."),
    "ST": N_("Step study: the group reads and talks about one of the Twelve Steps."),
    "B": N_("Big Book: the group reads and discusses the book Alcoholics Anonymous."),
    "MED": N_("Meditation: includes a period of quiet meditation."),
    "W": N_("Women: for women."),
    "M": N_("Men: for men."),
    "LGBTQ": N_("LGBTQ: focused on lesbian, gay, bisexual, transgender and queer people."),
    "Y": N_("Young people: focused on younger members."),
    "SM": N_("Smoking permitted: people may smoke at or near the meeting."),
    "TC": N_("Location temporarily closed: not meeting in person for now."),
    "ONL": N_("Online: meets by video or phone, so you can join from anywhere."),
}

# Codes seen in real feeds that mean an existing code (feeds are case-insensitive in practice).
ALIASES = {
    "LGBTQIA": "LGBTQ",
    "LGBTQIA+": "LGBTQ",
    "[OPEN]": "O",
    "[CLOSED]": "C",
    "OPEN": "O",
    "CLOSED": "C",
    "ONLINE": "ONL",
    "ASBI": "ABSI",  # aasepia.json: 26 meetings spell "As Bill Sees It" this way
}


@cache
def types() -> dict[str, dict]:
    """All type codes: code -> {"category", "en", "es"}."""
    raw = json.loads(TYPES_FILE.read_text(encoding="utf-8"))
    category_of = {code: cat for cat, codes in _CATEGORIES.items() for code in codes.split()}
    vocab = {
        code: {"category": category_of.get(code, "format"), "en": names["en"], "es": names["es"]}
        for code, names in raw.items()
    }
    vocab["ONL"] = {"category": "status", "en": "Online", "es": "En línea"}
    for code, (category, en, es) in EXTRA_TYPES.items():
        vocab[code] = {"category": category, "en": en, "es": es}
    return vocab


def normalise_type_code(raw: str) -> str | None:
    """Map a feed's type code onto the vocabulary, or None if it is unknown."""
    code = str(raw).strip()
    if not code:
        return None
    vocab = types()
    if code in vocab:
        return code
    upper = code.upper()
    upper = ALIASES.get(upper, upper)
    if upper in vocab:
        return upper
    for candidate in vocab:
        if candidate.upper() == upper:
            return candidate
    return None


# Free-text accessibility phrases that are unambiguous enough to become a coded feature.
# Anything else is kept only as text (issue #2: "mapped where the text is unambiguous").
_ACCESSIBILITY_PATTERNS = [
    (re.compile(r"\bwheel\s*chair\b|\bwheelchair\b|\bwheelchair[- ]accessible\b", re.I), "X"),
    (re.compile(r"\b(accessible|disabled|ada)\s+(rest\s*room|bathroom|toilet)s?\b", re.I), "XB"),
    (re.compile(r"\b(hearing|induction)\s+loops?\b|\bt-?coil\b", re.I), "LOOP"),
    (re.compile(r"\bAmerican Sign Language\b|\bASL\b", re.I), "ASL"),
    (re.compile(r"\b(disabled|accessible|handicap(ped)?)[_ ]parking\b", re.I), "PARKING"),
    (re.compile(r"\bramps?\b", re.I), "RAMP"),
    (re.compile(r"\belevators?\b", re.I), "ELEVATOR"),
    (re.compile(r"\bbraille\b", re.I), "BRAILLE"),
    (re.compile(r"\bfragrance[- ]free\b", re.I), "FF"),
    (re.compile(r"\b(childcare|child care|babysitting)\b", re.I), "BA"),
]


def accessibility_codes(text: str) -> list[tuple[str, str]]:
    """Coded accessibility features found in free text, each with the phrase that claimed it."""
    found = []
    for pattern, code in _ACCESSIBILITY_PATTERNS:
        match = pattern.search(text or "")
        if match and code not in {c for c, _ in found}:
            found.append((code, match.group(0)))
    return found
