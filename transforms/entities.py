"""Named entities for faceting: spaCy mentions → clean, canonical names per document and across documents.

Extraction takes an already loaded spaCy pipeline (flows load it once per worker) and only its
NER (the `ner` component and what it listens to): everything else is arithmetic on spaCy's tokens
and labels and the text around them, a few per cent of spaCy's own time (docs/benchmarks.md, "Entities"). The rules are
general: word lists (transforms/data/entity_words.txt, roles.txt, countries.tsv) hold vocabulary
and countries, never names from the evaluation sets (docs/quality.md, "Entities").

- Text prepared for NER (`prepare_text`): lines in capitals (wire headlines, datelines) get their
  words' case from the rest of the document, so the model sees "Japan", not "JAPAN"; the copy has
  the same length, so offsets stay valid.
- A dateline at the top of the text (`dateline_places`: `LONDON 1996-12-06`, `AL-AIN, United Arab
  Emirates 1996-12-06`, `WASHINGTON (Reuters) -`) gives a location.
- Mentions (`mentions_from_spacy`): spans cleaned of words in lower case, roles and nationality or
  party words glued to names ("defender Hassan Abbas", "Croat Alen Boksic"); split at standalone
  numbers ("Lazio 1 Bologna"), lists, brackets and headline dashes; a designator the model left
  out joined ("Mandovi" + "River"); names the model missed that a designator types ("Shady
  Records"). Each carries the evidence around it (`_cues`): a title or determiner before it, a
  team context (result lines, tables, "X coach", "played for X"), a noun that says what it is
  ("a village", "the band", "the album"), a list it stands in, a place preposition or region
  after it, quotation marks, a product noun ("Jupiter missiles"), the text writing it in lower
  case elsewhere.
- Within a document (`resolve_document`), each name gets one kind from that evidence, in the order
  `_kind_of` gives, else from the majority of spaCy's labels; bare nationalities and directions
  are no places. Short person mentions ("Scalfaro", "Oscar Scalfaro") join the one longer name they
  are part of ("Oscar Luigi Scalfaro"): a name the document states is never shortened.
- Across documents (`canonicalise`), spelling and transliteration variants ("Sergey"/"Sergei
  Ryabkov") join by fuzzy surname and compatible first name; a group takes the name the alias
  table knows, else its longest form, else its most mentioned form.
- A curated alias file plus the learned alias table (kept in the run state) map variants such as
  "U.S."/"US"/"United States" to one name.
Junk (dates, numbers, single letters, lower-case tag echoes, headline-only fragments) never gets in.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import ratio

from newsdex.transforms.text import line_key, squash

LABEL_KIND = {
    "PERSON": "person",
    "PER": "person",
    "ORG": "org",
    "GPE": "location",
    "LOC": "location",
    "FAC": "misc",
    "NORP": "misc",
    "EVENT": "misc",
    "LAW": "misc",
    "PRODUCT": "misc",
    "WORK_OF_ART": "misc",
    "MISC": "misc",
}
KINDS = ("person", "org", "location", "misc")
# Components NER can need: `ner`, and the shared `tok2vec` only where `ner` listens to it (in
# en_core_web_sm it has its own; flows/stages.py `ner_pipes`). The rest of a pipeline is not loaded.
NER_COMPONENTS = ("tok2vec", "ner")
POSSESSIVE = re.compile(r"[’']s?$")


def _data(name: str) -> str:
    return resources.files("newsdex.transforms").joinpath(f"data/{name}").read_text("utf-8")


def _read_word_lists() -> dict[str, frozenset[str]]:
    """Return the entity rules' word lists (transforms/data/entity_words.txt) by section name."""
    lists: dict[str, set[str]] = {}
    current: set[str] = set()
    for line in _data("entity_words.txt").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = lists.setdefault(line[1:-1], set())
        else:
            current.update(line.split())
    return {name: frozenset(words) for name, words in lists.items()}


_WORDS = _read_word_lists()
GENERIC_ORG_WORDS = _WORDS["generic_org_words"]
NAME_PARTICLES = _WORDS["name_particles"]
DIRECTIONS = _WORDS["directions"]
ORG_LAST = _WORDS["org_last"]
COMPANY_LAST = _WORDS["company_last"]
ORG_ANY = _WORDS["org_any"]
ORG_FIRST = _WORDS["org_first"]
LOCATION_LAST = _WORDS["location_last"]
LOCATION_FIRST = _WORDS["location_first"]
EVENT_LAST = _WORDS["event_last"]
EVENT_FIRST = _WORDS["event_first"]
TEAM_WORDS = _WORDS["team_words"]
PRODUCT_WORDS = _WORDS["product_words"]
TEAM_VERBS = _WORDS["team_verbs"]
HEAD_FOLLOWERS = _WORDS["head_followers"]
QUALIFIERS = _WORDS["qualifiers"]
KIND_NOUNS = {"location": _WORDS["location_nouns"], "org": _WORDS["org_nouns"], "misc": _WORDS["work_nouns"]}
LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
JUNK = re.compile(r"^[\W\d_]*$|^\w$|\d{3,}|https?:|www\.|@|/", re.UNICODE)
PUNCT_EDGES = " \t\n\"'“”‘’«»„()[]{}.,;:!?-–—*"
NUMBER = re.compile(r"^\d{1,3}$")
LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z]+(?![\w'’-])")
COPULAS = frozenset({"is", "was", "are", "were", ",", "("})
DETERMINERS = frozenset({"the", "a", "an"})
QUOTES_OPEN = frozenset({'"', "“", "'", "‘", "«", "„"})
QUOTES_CLOSE = frozenset({'"', "”", "'", "’", "»", "“"})
LIST_JOINERS = frozenset({"and", "&", ",", ";", "or"})
PLURAL = re.compile(r"[^su]s$")
PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "outside"})
SURNAME_SIMILARITY = 85.0
FIRSTNAME_SIMILARITY = 0.80


@lru_cache(maxsize=1)
def curated_aliases() -> dict[str, dict[str, str]]:
    """Return the curated alias table shipped with the package: kind → folded variant → canonical."""
    data = json.loads(_data("aliases.json"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def role_words() -> frozenset[str]:
    """Return the titles, honorifics and role words stripped from the front of person names."""
    text = _data("roles.txt")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def title_words() -> frozenset[str]:
    """Return the role words that, just before a name, say the name is a person's."""
    return role_words() - QUALIFIERS - NAME_PARTICLES


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Countries (folded name or other name → name) and nationality/affiliation words (folded)."""

    countries: dict[str, str]
    demonyms: frozenset[str]
    country_demonyms: frozenset[str]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Return the country gazetteer shipped with the package (transforms/data/countries.tsv)."""
    countries: dict[str, str] = {}
    demonyms: set[str] = set()
    national: set[str] = set()
    for line in _data("countries.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, others, words = [*line.split("\t"), "", ""][:3]
        folded = {line_key(w) for w in words.split("|") if w.strip()}
        demonyms |= folded
        if name != "-":
            national |= folded
            for variant in [name, *others.split("|")]:
                if variant.strip():
                    countries[line_key(variant)] = name
    return Gazetteer(countries, frozenset(demonyms), frozenset(national))


@dataclass(slots=True)
class Mention:
    """One entity mention: kind, surface text cleaned of roles and possessives, the evidence around it."""

    kind: str
    text: str
    cues: frozenset[str] = frozenset()


@dataclass(slots=True)
class DocEntities:
    """A document's resolved entities: kind → name → mention count."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


# --- text prepared for NER -----------------------------------------------------------------------
CAPS_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.-](?=[^\W\d_]))*", re.UNICODE)
DATE_TAIL = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?"
    r"|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:\s+\d{4})?)$",
    re.I,
)
AGENCY_OPENING = re.compile(
    r"^([^\W\d_][^,()\n]{1,40}?)(?:,\s*([^\W\d_][^,()\n]{1,40}?))?\s*\([\w .&-]{2,30}\)\s*[-–—]"
)
TOP_LINES = 4


def _is_caps_line(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def prepare_text(text: str, reference: str | None = None) -> str:
    """Return the text with its capitals-only lines in sentence case, same length (offsets keep).

    A word of such a line takes the spelling the rest of the text (or `reference`, e.g. the body
    for a headline) uses most in ordinary lines ("JAPAN" → "Japan", "NATO" stays); a word seen
    nowhere else is lower-cased (the model needs no capital to start a line). Wire headlines and
    datelines in capitals otherwise come out of NER as noise or nothing.
    """
    lines = text.split("\n")
    caps = [i for i, line in enumerate(lines) if _is_caps_line(line)]
    if not caps:
        return text
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    sources = [line for i, line in enumerate(lines) if i not in set(caps)]
    if reference:
        sources += [line for line in reference.split("\n") if not _is_caps_line(line)]
    for line in sources:
        for match in CAPS_WORD.finditer(line):
            word = match.group()
            # A sentence's first word is capitalised for grammar: weaker evidence of a name.
            spellings[word.lower()][word] += 1 if match.start() else 0.5  # type: ignore[assignment]
    for i in caps:
        out = []
        pos = 0
        for match in CAPS_WORD.finditer(lines[i]):
            word = match.group()
            seen = spellings.get(word.lower())
            restored = seen.most_common(1)[0][0] if seen else word.lower()
            if len(restored) != len(word):
                restored = word
            out.append(lines[i][pos : match.start()])
            out.append(restored)
            pos = match.end()
        out.append(lines[i][pos:])
        lines[i] = "".join(out)
    return "\n".join(lines)


def dateline_places(text: str) -> list[str]:
    """Return the places of a dateline at the top of the text, in ordinary case.

    `LONDON 1996-12-06`, `AL-AIN, United Arab Emirates 1996-12-06`, `ROME` over a line that starts
    with a date, or a first paragraph opening `WASHINGTON (Reuters) -`.
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()][:TOP_LINES]
    for n, line in enumerate(lines):
        place, region, rest = _split_dateline(line)
        if place is None:
            continue
        dated = bool(rest and DATE_TAIL.match(rest))
        bare = not rest and n + 1 < len(lines) and DATE_TAIL.match(lines[n + 1].split("  ")[0].strip())
        if dated or bare:
            return [p for p in (_place_case(place), region and _place_case(region)) if p]
        opening = AGENCY_OPENING.match(line)
        if opening and _is_caps_line(opening.group(1)):
            region = opening.group(2)
            if region and DATE_TAIL.match(region):  # "BRUSSELS, Dec 5 (Reuters) -"
                region = None
            return [p for p in (_place_case(opening.group(1)), region) if p]
    return []


def _split_dateline(line: str) -> tuple[str | None, str | None, str]:
    """Return (place in capitals, region, rest) when the line opens with a place in capitals."""
    head, _, tail = line.partition(",")
    match = re.match(r"^([A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+){0,3})(?:\s+(.*))?$", head.strip())
    if not match or len(match.group(1)) < 3:
        return None, None, ""
    place, rest = match.group(1), (match.group(2) or "").strip()
    region = None
    if tail and not rest:
        parts = tail.strip().split()
        # "United Arab Emirates 1996-12-06": the region runs up to the date.
        for cut in range(len(parts), 0, -1):
            if DATE_TAIL.match(" ".join(parts[cut:])) or cut == len(parts):
                candidate = " ".join(parts[:cut])
                if candidate and all(p[:1].isupper() for p in parts[:cut]):
                    region, rest = candidate, " ".join(parts[cut:])
                    break
    return place, region, rest


def _place_case(name: str) -> str:
    if not _is_caps_line(name):
        return name
    return re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), name.lower())


# --- mentions ------------------------------------------------------------------------------------
def clean_surface(text: str, kind: str, demonym_ok: bool = False) -> str | None:
    """Return the mention text without possessive, leading article, roles and glued words; None if junk.

    Leading words in lower case ("defender Hassan Abbas") go for every kind; for people also
    roles and titles, and nationality/affiliation words when a name of two words stays
    ("Russian Igor Kolyvanov") or the caller knows the word is one (`demonym_ok`).
    """
    text = squash(text.replace("\n", " ")).strip(PUNCT_EDGES)
    if kind != "org":  # "Macy's", "Moody's": an organisation's name can end so
        text = POSSESSIVE.sub("", text).strip(PUNCT_EDGES)
    text = LEADING_ARTICLE.sub("", text)
    tokens = text.split()
    while (
        tokens
        and (_lower_word(tokens[0]) or tokens[0] in PUNCT_EDGES + "&")
        and not (tokens[0] in NAME_PARTICLES - {"of", "and", "for", "or"} and len(tokens) > 1)
    ):
        tokens.pop(0)
    while tokens and (_lower_word(tokens[-1]) or tokens[-1] in PUNCT_EDGES + "&"):
        tokens.pop()
    if kind == "person":
        roles = role_words()
        demonyms = gazetteer().demonyms
        while tokens:
            first = tokens[0].lower().strip(".")
            if (
                (first in roles or _lower_word(tokens[0])) and (len(tokens) > 1 or len(text.split()) > 1)
            ) or (
                line_key(tokens[0]) in demonyms and (len(tokens) >= 3 or (demonym_ok and len(tokens) >= 2))
            ):
                tokens.pop(0)
            elif len(tokens) >= 3 and " ".join(line_key(t) for t in tokens[:2]) in demonyms:
                del tokens[:2]
            else:
                break
    text = " ".join(tokens).strip(PUNCT_EDGES)
    if kind == "person" and any(
        any(c.isdigit() for c in w)  # "P-38 Lightning", "2 Bombardment"
        or (_lower_word(w) and w not in NAME_PARTICLES)
        or ("-" in w and line_key(w.split("-")[0]) in gazetteer().demonyms and _lower_word(w.split("-")[-1]))
        for w in text.split()
    ):
        return None  # "Harold Junior Theriault of", "Russian-language": not a name ("Kim Jong-un" is)
    if not text or JUNK.search(text) or text == text.lower() or len(text) > 80:
        return None
    if kind == "org" and text.lower() in GENERIC_ORG_WORDS:
        return None
    return text


def _lower_word(token: str) -> bool:
    return token.isalpha() and token.islower()


def mentions_from_spacy(doc: Any) -> list[Mention]:
    """Return the mentions of a processed spaCy Doc, cleaned, split at numbers, with their cues.

    The small English model often labels "Kremlin Spokesperson Dmitry" as an ORG and "Peskov" as
    a PERSON right after it; a span whose last tokens follow a role word and that touches a PERSON
    span is joined to it as one person.
    """
    ents = list(doc.ents)
    roles = role_words()
    norp = {line_key(e.text) for e in ents if e.label_ == "NORP"}
    lower_words = set(LOWER_WORD.findall(doc.text))
    out: list[Mention] = []
    i = 0
    while i < len(ents):
        ent = ents[i]
        kind = LABEL_KIND.get(ent.label_)
        tokens = [t.text for t in ent]
        role_at = max((j for j, t in enumerate(tokens) if t.lower().strip(".") in roles), default=-1)
        nxt = ents[i + 1] if i + 1 < len(ents) else None
        if (
            kind == "org"
            and 0 <= role_at < len(tokens) - 1
            and nxt is not None
            and nxt.label_ in ("PERSON", "PER")
            and nxt.start == ent.end
        ):
            name = clean_surface(" ".join(tokens[role_at + 1 :]) + " " + nxt.text, "person")
            if name:
                out.append(Mention("person", name, frozenset({"title"})))
            i += 2
            continue
        i += 1
        if not kind:
            continue
        stop = ent.end
        if (
            kind == "org"
            and nxt is not None
            and nxt.label_ in ("GPE", "LOC")
            and nxt.start == ent.end + 1
            and doc[ent.end].text == "of"
            and line_key(ent[-1].text) in ORG_LAST - COMPANY_LAST
        ):
            # "State Railway" + "of" + "Thailand": one organisation ("Sony Corp of Japan" stays two).
            stop = nxt.end
            i += 1
        while (
            kind in ("location", "org")
            and stop < len(doc)
            and doc[stop].ent_iob_ != "B"
            and doc[stop].text[:1].isupper()
            and doc[stop].text.lower() in LOCATION_LAST | (ORG_LAST - COMPANY_LAST)
        ):
            stop += 1  # "Mandovi" + "River": the model left the designator out
        listed = _list_neighbours(doc, ents, i - 1)
        for start, end in _split_span(doc, ent.start, stop):
            mentions = _mentions_of_span(doc, start, end, kind, norp, lower_words)
            kinds = {LABEL_KIND.get(label) for label in listed}
            if len(listed) >= 2 and len(kinds) == 1 and kinds <= {"person", "org", "location"}:
                # Named in a list of one kind: "the villages of Aisby, Asebi and Haydour".
                mentions = [Mention(m.kind, m.text, m.cues | {f"among_{kinds.pop()}"}) for m in mentions]
            out.extend(mentions)
    out.extend(_designated_names(doc))
    return out


def _designated_names(doc: Any) -> list[Mention]:
    """Return the names the model missed that their own last word types: "Shady Records", "Hancock Brook".

    A run of capitalised words ending in a designator (`ORG_LAST`, `LOCATION_LAST`), with no word
    of it inside an entity the model found.
    """
    out = []
    for match in _designated_pattern().finditer(doc.text):
        span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
        if span is None or any(t.ent_iob_ != "O" for t in span):
            continue
        text = LEADING_ARTICLE.sub("", match.group()).strip()
        kind = _pattern_kind(line_key(text))
        if kind in ("org", "location") and len(text.split()) >= 2:
            out.append(Mention(kind, text, frozenset({"designated"})))
    return out


@lru_cache(maxsize=1)
def _designated_pattern() -> re.Pattern[str]:
    words = sorted(
        (ORG_LAST - COMPANY_LAST - {"united", "athletic", "times", "post", "press"}) | LOCATION_LAST
    )
    designator = "|".join(w.capitalize() for w in words if len(w) > 3)
    first = "|".join(w.capitalize() for w in sorted(ORG_FIRST | LOCATION_FIRST) if len(w) > 3)
    name_word = r"[A-Z][\w'’&.-]*"
    return re.compile(
        rf"\b{name_word}(?:\s+(?:(?:of|for|and|de|&)\s+)?{name_word}){{0,4}}\s+(?:{designator})\b(?!['’-])"
        # "University of Leeds", "Lake Victoria"
        rf"|\b(?:{first})(?:\s+of)?(?:\s+{name_word}){{1,3}}\b(?!['’-])"
    )


def _list_neighbours(doc: Any, ents: list[Any], n: int) -> list[str]:
    """Return the labels of the entities listed with entity n ("Aisby, Asebi and Haydour")."""
    labels = []
    for step in (-1, 1):
        k, current = n + step, ents[n]
        while 0 <= k < len(ents):
            left, right = (ents[k], current) if step < 0 else (current, ents[k])
            between = [t.text for t in doc[left.end : right.start]]
            if between not in ([","], ["and"], ["or"], [",", "and"], [",", "or"]):
                break
            labels.append(ents[k].label_)
            current, k = ents[k], k + step
    return labels


def _split_span(doc: Any, start: int, end: int) -> list[tuple[int, int]]:
    """Return the token ranges of the names a span holds.

    The model runs names together across standalone numbers ("Lazio 1 Bologna") and lists
    ("Karl Langdon & Harvey Deegan", "Rochester Jeffersons and Buffalo Bisons"); a list is cut only
    where each side has two words or more and the first has no small words of its own ("Procter &
    Gamble", "Organization for Security and Co-operation" stay one name). A number at the end
    stays ("Maroon 5") unless another number follows the span (a table row).
    """
    while start < end - 1 and doc[start].lower_ in DETERMINERS:
        start += 1  # "the Rochester Jeffersons and ...": the article is no part of the list
    parts, begin = [], start
    for j in range(start, end):
        word = doc[j].text
        number = NUMBER.match(word) and j > start and (j < end - 1 or _next_is_number(doc, end))
        # "SOCCER - ROSSETTI": a dash between spaces separates a headline's label from its names.
        dash = word in ("-", "–", "—") and j > start and bool(doc[j - 1].whitespace_ and doc[j].whitespace_)
        # "NFL champion Baltimore Colts": a word in lower case that is no name particle.
        common = (
            word[:1].islower()
            and word[:1].isalpha()
            and word[1:2] not in ("'", "’")  # "d'Orves"
            and word not in NAME_PARTICLES
            and bool(doc[j - 1].whitespace_ if j > start else True)  # not "Co-operation"
        )
        if number or common or dash:
            if j > begin:
                parts.append((begin, j))
            begin = j + 1
    if begin < end:
        parts.append((begin, end))
    out = []
    for begin, stop in parts:
        cut = (
            next(
                (
                    j
                    for j in range(begin + 1, stop - 1)
                    # "Panaji (Panjim", "Tieck, Schelling", "Grantham, Lincolnshire": two names.
                    if doc[j].text in ("(", ",")
                    # "CBS, Inc", "Washington, D.C.": a suffix or an abbreviation, not a second name.
                    and line_key(doc[j + 1].text) not in COMPANY_LAST | {"jr", "sr"}
                    and not (j + 2 == stop and "." in doc[j + 1].text)
                ),
                None,
            )
            or next(
                (
                    j
                    for j in range(begin + 2, stop - 2)
                    if doc[j].text in LIST_JOINERS
                    and doc[j + 1].text[:1].isupper()
                    # "Organization for Security and Co-operation": a name with its own small words.
                    and not any(_lower_word(t.text) for t in doc[begin:j])
                    # "Pierpont Community and Technical College": the last word names the whole.
                    and not (
                        _pattern_kind(line_key(doc[j + 1 : stop].text))
                        and not _pattern_kind(line_key(doc[begin:j].text))
                    )
                ),
                None,
            )
        )
        if cut is None:
            out.append((begin, stop))
        else:
            out.extend([(begin, cut), *_split_span(doc, cut + 1, stop)])
    return out


def _next_is_number(doc: Any, end: int) -> bool:
    return end < len(doc) and bool(NUMBER.match(doc[end].text))


def _mentions_of_span(
    doc: Any, start: int, end: int, kind: str, norp: set[str], lower_words: set[str]
) -> list[Mention]:
    span_text = doc[start:end].text
    first = line_key(doc[start].text)
    if kind in ("person", "misc") and first in gazetteer().demonyms and end - start >= 3:
        # "Russian Igor Kolyvanov" comes out of the model as one NORP or PERSON span.
        name = clean_surface(span_text, "person", demonym_ok=True)
        return [Mention("person", name, _cues(doc, start, end, lower_words))] if name else []
    if (
        kind in ("org", "location")
        and end - start >= 2
        and doc[start].text.lower().strip(".") in title_words()
        and not _pattern_kind(line_key(span_text))
    ):
        # "Ms Hessel", "President Bush" labelled as an organisation or a place ("General Motors",
        # "Prince Edward Island" are what their last word says).
        name = clean_surface(span_text, "person")
        return [Mention("person", name, _cues(doc, start, end, lower_words) | {"title"})] if name else []
    if kind == "misc":
        # Kept for the document's kind votes (a bare nationality is not a place).
        return [Mention("misc", span_text.strip(PUNCT_EDGES), frozenset())] if span_text.strip() else []
    name = clean_surface(span_text, kind, demonym_ok=first in norp)
    return [Mention(kind, name, _cues(doc, start, end, lower_words))] if name else []


def _cues(doc: Any, start: int, end: int, lower_words: set[str]) -> frozenset[str]:
    """Return the evidence around a span: the words before and after it, its line, its own word."""
    cues = set()
    prev = doc[start - 1] if start > 0 else None
    nxt = doc[end] if end < len(doc) else None
    after = doc[end + 1] if end + 1 < len(doc) else None
    possessive = nxt is not None and nxt.text.lower() in ("'s", "’s")
    titles = title_words()
    if (
        prev is not None
        and start > 1
        and prev.lower_ in ("for", "against")
        and doc[start - 2].lower_ in TEAM_VERBS
    ):
        cues.add("team")  # "played for Verona", "scored against Genoa"
    if prev is not None and not prev.is_space:
        word = prev.text.lower()
        if word.strip(".") in titles:
            cues.add("title")
        attributive = nxt is not None and _lower_word(nxt.text) and not PLURAL.search(doc[end - 1].text)
        if word in DETERMINERS and not attributive:  # "a Buddy Rich concert" names a person
            cues.add("determiner")
        if word in PLACE_PREPOSITIONS and not possessive:
            cues.add("place_preposition")
    if end - start > 1 and doc[start].text.lower().strip(".") in titles:
        cues.add("title")
    if prev is not None and nxt is not None and prev.text in QUOTES_OPEN and nxt.text in QUOTES_CLOSE:
        cues.add("quoted")
    if end - start == 1 and doc[start].text.lower() in lower_words and not doc[start].is_upper:
        cues.add("common_word")
    kind = _kind_noun_after(doc, end) or _kind_noun_before(doc, start)
    if kind:
        cues.add(f"is_{kind}")
    if nxt is not None and not nxt.is_space:
        following = after.text.lower() if possessive and after is not None else nxt.text.lower()
        if following in TEAM_WORDS:
            cues.add("team")
        if _product_after(doc, end):
            cues.add("product")
        if NUMBER.match(nxt.text) and _is_results_line(doc, start, end):
            cues.add("team")
        if (
            nxt.text == ","
            and after is not None
            and after.ent_iob_ == "B"
            and after.ent_type_ in ("GPE", "LOC")
            and (after.ent_iob_ and _place_then_stop(doc, after.i))
        ):
            cues.add("in_region")  # "Caernarfon, Wales." / "Boultham, Lincolnshire, England"
    return frozenset(cues)


def _place_then_stop(doc: Any, i: int) -> bool:
    """Return True when the place entity starting at token i is followed by punctuation or the end."""
    j = i + 1
    while j < len(doc) and doc[j].ent_iob_ == "I":
        j += 1
    return j == len(doc) or doc[j].is_punct or doc[j].is_space


def _product_after(doc: Any, end: int) -> bool:
    """Return True when a product noun follows the name, past a closing quote and two adjectives at
    most ("Jupiter missiles", '"Jupiter" nuclear missiles')."""
    j = end
    if j < len(doc) and doc[j].text in QUOTES_CLOSE:
        j += 1
    for k in range(j, min(j + 3, len(doc))):
        if doc[k].lower_ in PRODUCT_WORDS:
            return True
        if not _lower_word(doc[k].text):
            return False
    return False


def _kind_noun_after(doc: Any, end: int) -> str | None:
    """Return the kind a noun after the name gives it: "X is a small village", "X, the carmaker"."""
    j = end
    if j < len(doc) and doc[j].text.lower() in COPULAS:
        j += 1
    else:
        return None
    if j < len(doc) and doc[j].text.lower() in DETERMINERS:
        j += 1
    for k in range(j, min(j + 4, len(doc))):
        word = doc[k].text
        for kind, nouns in KIND_NOUNS.items():
            # The noun must be the phrase's head: "Newmont, the miner, said", not "X, company spokesman".
            if word in nouns and (
                k + 1 == len(doc)
                or doc[k + 1].is_punct
                or doc[k + 1].is_space
                or doc[k + 1].text in HEAD_FOLLOWERS
            ):
                return kind
        if doc[k].is_punct or doc[k].is_space or doc[k].ent_type_ in ("PERSON", "ORG"):
            return None
    return None


def _kind_noun_before(doc: Any, start: int) -> str | None:
    """Return the kind a noun before the name gives it: "the band X", "the town of X"."""
    j = start - 1
    linked_by = doc[j].text.lower() if j >= 1 else ""
    if linked_by in ("of", "called", "named"):
        j -= 1
    if j < 0 or doc[j].is_space:
        return None
    word = doc[j].text
    for kind, nouns in KIND_NOUNS.items():
        # Lower case only ("Secretary of State X" is a title); "the town of X" names the town,
        # "the band of X" does not name the band.
        if word in nouns and (linked_by != "of" or kind == "location"):
            return kind
    return None


RESULT_NAME = r"[^\W\d_][\w.'’&-]*(?:\s+[^\W\d_][\w.'’&-]*){0,3}"
# "Lazio 1 Bologna 0 (halftime 0-0)" and a table row "Barnsley 21 11 6 4 35 20 39".
RESULT_LINE = re.compile(rf"^\s*{RESULT_NAME}\s+\d{{1,2}}\s+{RESULT_NAME}\s+\d{{1,2}}(?:\s*[(,;].*)?\s*$")
TABLE_ROW = re.compile(rf"^\s*{RESULT_NAME}(?:\s+\d{{1,3}}){{4,}}\s*$")


def _is_results_line(doc: Any, start: int, end: int) -> bool:
    """Return True when the span's line is a match result or a table row."""
    text = doc.text
    begin = text.rfind("\n", 0, doc[start].idx) + 1
    stop = text.find("\n", doc[end - 1].idx)
    line = text[begin : stop if stop >= 0 else len(text)]
    return bool(RESULT_LINE.match(line) or TABLE_ROW.match(line))


# --- one document --------------------------------------------------------------------------------
def _fold(name: str) -> str:
    return line_key(name)


def _pattern_kind(key: str) -> str | None:
    """Return the kind a name's own words decide (events, designators), or None."""
    tokens = key.split()
    if not tokens:
        return None
    if len(tokens) > 1 and (tokens[0] in EVENT_FIRST or tokens[-1] in EVENT_LAST):
        return "misc"
    if len(tokens) > 1 and (tokens[-1] in ORG_LAST or tokens[0] in ORG_FIRST or ORG_ANY.intersection(tokens)):
        return "org"
    if len(tokens) > 1 and (tokens[-1] in LOCATION_LAST or tokens[0] in LOCATION_FIRST):
        return "location"
    return None


def _is_part_of(short: list[str], full: list[str]) -> bool:
    """Return True when `short` is `full` with some words left out, in order."""
    it = iter(full)
    return all(token in it for token in short)


def resolve_document(body_mentions: Iterable[Mention], title_mentions: Iterable[Mention] = ()) -> DocEntities:
    """Return a document's entities: one kind per name, short person mentions joined to their full name.

    A name seen only in the headline (Title Case fragments such as "Hardball Rhetoric") is not kept
    unless the body mentions it too.
    """
    body = list(body_mentions)
    body_keys = {_fold(m.text) for m in body}
    mentions = body + [m for m in title_mentions if _fold(m.text) in body_keys]
    # An organisation's name keeps a final "'s" ("Macy's") unless the text also names it without.
    keys = {_fold(m.text) for m in mentions}
    mentions = [
        Mention(m.kind, POSSESSIVE.sub("", m.text), m.cues)
        if POSSESSIVE.search(m.text) and _fold(POSSESSIVE.sub("", m.text)) in keys
        else m
        for m in mentions
    ]
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    cues: dict[str, Counter[str]] = defaultdict(Counter)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        key = _fold(m.text)
        if not key:
            continue
        votes[key][m.kind] += 1
        cues[key].update(m.cues)
        if m.kind != "misc" or not surface[key]:
            surface[key][m.text] += 1
    kinds = _decide_kinds(votes, cues)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for key, kind in kinds.items():
        if kind is None:
            continue
        name = surface[key].most_common(1)[0][0]
        if kind != "org":
            name = POSSESSIVE.sub("", name)
        by_kind[kind][name] += sum(votes[key].values())
        if cues[key]["dateline"] and kind != "location":
            # "VERONA, Italy" over a report on Verona's match: the city and the club.
            by_kind["location"][name] += cues[key]["dateline"]
    by_kind["person"] = _join_person_variants(by_kind.get("person", Counter()))
    result = DocEntities()
    for kind in KINDS:
        if by_kind.get(kind):
            result.counts[kind] = by_kind[kind]
    return result


def document_entities(body: Any, title: Any, body_text: str) -> DocEntities:
    """Return a document's entities from its processed spaCy body and title and its body's text
    (the dateline is read from the text as written)."""
    places = [Mention("location", p, frozenset({"dateline"})) for p in dateline_places(body_text)]
    return resolve_document(mentions_from_spacy(body) + places, mentions_from_spacy(title))


def _decide_kinds(votes: dict[str, Counter[str]], cues: dict[str, Counter[str]]) -> dict[str, str | None]:
    """Return each folded name's kind (None: not an entity), from the evidence in `resolve_document`."""
    # Full names first: their words decide the kind of the shorter mentions that are part of them.
    persons = [k for k, v in votes.items() if _majority(v) == "person" and len(k.split()) >= 2]
    companies = [k for k in votes if len(k.split()) > 1 and k.split()[-1] in COMPANY_LAST]
    gaz = gazetteer()
    decided: dict[str, str | None] = {}
    for key, vote in votes.items():
        kind = _kind_of(key, vote, cues[key], persons, companies)
        # A bare nationality or direction is no place ("the West"), no person, no organisation.
        if (kind == "location" and (key in gaz.demonyms or key in DIRECTIONS)) or (
            kind in ("person", "org") and key in (gaz.country_demonyms if kind == "org" else gaz.demonyms)
        ):
            kind = "misc"
        decided[key] = kind
    return decided


def _kind_of(
    key: str, vote: Counter[str], cue: Counter[str], persons: list[str], companies: list[str]
) -> str | None:
    """Return one name's kind: the first piece of evidence that decides, else spaCy's majority."""
    tokens = key.split()
    mentions = sum(vote.values())
    spacy_kind = _majority(vote)
    pattern = _pattern_kind(key)
    country = key in gazetteer().countries or key in curated_aliases().get("location", {})
    if pattern == "misc":  # "Cuban Missile Crisis", "Operation Anadyr", "Davis Cup"
        return "misc"
    if cue["team"] and (
        # A one-word "person" in a result line is a club; "Colin Montgomerie 69 70" is a golfer.
        (spacy_kind == "person" and len(tokens) == 1)
        or (spacy_kind != "person" and cue["team"] * 2 >= mentions)
    ):
        return "location" if country else "org"  # a national team is its country
    if country:
        return "location"
    if key in curated_aliases().get("org", {}) and spacy_kind != "person":
        return "org"
    if pattern:  # "... Corp", "... River"
        return pattern
    if len(tokens) < 3 and any(_part_of_person(tokens, p.split(), spacy_kind) for p in persons if p != key):
        return "person"
    named = max(("location", "org", "misc"), key=lambda k: cue[f"is_{k}"])
    if cue[f"is_{named}"] * 3 >= mentions and spacy_kind != "misc":  # "a village", "the band"
        return named
    if any(o.startswith(key + " ") for o in companies):  # "Newmont" of "Newmont Mining Corp"
        return "org"
    if cue["quoted"] * 2 >= mentions and spacy_kind in ("person", "org"):
        return "misc"  # a name in quotation marks is a title: a song, a book, a programme
    if spacy_kind == "location" and cue["product"]:  # "Jupiter missiles"
        return "misc"
    if cue["title"] and spacy_kind in ("org", "location", "person"):  # "Ms Hessel", "rapper Eminem"
        return "person"
    if spacy_kind == "person" and cue["determiner"] * 2 >= mentions:
        # "the Lib Dems" are a party; "the Danube" is no person either, but nothing says what it is.
        return "org" if PLURAL.search(key) else _runner_up(vote, "person")
    listed = _listed_kind(cue, mentions)
    if listed and spacy_kind in ("person", "org", "location") and len(tokens) <= 3:
        return listed  # "the villages of Aisby, Asebi and Haydour"
    if len(tokens) == 1 and (
        (cue["in_region"] * 2 >= mentions and spacy_kind in ("person", "org"))
        or (cue["place_preposition"] * 2 >= mentions and spacy_kind == "person")
    ):
        return "location"  # "Caernarfon, Wales", "at Twickenham"
    if (
        spacy_kind in ("person", "org", "location")
        and cue["common_word"] * 2 >= mentions
        and key not in ORG_LAST  # "Parliament", "Congress", "Army" beside "the parliament"
    ):
        return None  # a capitalised common word the text also writes in lower case ("Budget", "Film")
    return spacy_kind


def _listed_kind(cue: Counter[str], mentions: int) -> str | None:
    """Return the kind of the lists most of a name's mentions stand in, if any."""
    for kind in ("location", "person", "org"):
        if cue[f"among_{kind}"] * 2 >= mentions:
            return kind
    return None


def _runner_up(vote: Counter[str], not_this: str) -> str:
    """Return the most voted kind other than `not_this` (misc when there is none)."""
    rest = Counter({k: n for k, n in vote.items() if k != not_this})
    return _majority(rest) if rest else "misc"


def _part_of_person(tokens: list[str], full: list[str], spacy_kind: str) -> bool:
    """Return True when a name is a person's surname ("Voulet" of "Paul Voulet") or, labelled a person
    itself, another part of the name; "Boston" of "Boston Bruins" labelled a person stays a place."""
    if len(tokens) == 1:
        return tokens[0] == full[-1] or (spacy_kind == "person" and tokens[0] in full)
    return _is_part_of(tokens, full)


def _majority(vote: Counter[str]) -> str:
    """Return the kind most mentions carry; a named kind beats misc on a tie."""
    best = max(vote.values())
    # On a tie, the label the model gets right most often (GPE/LOC, then PERSON, then ORG).
    for kind in ("location", "person", "org", "misc"):
        if vote.get(kind) == best:
            return kind
    return "misc"


def _join_person_variants(persons: Counter[str]) -> Counter[str]:
    """Return person counts with each shorter mention joined to the one longer name it is part of.

    "Ryabkov" and "Oscar Scalfaro" join "Sergei Ryabkov" and "Oscar Luigi Scalfaro"; a surname two
    full names share (brothers, a couple) is ambiguous and dropped; a near spelling of one full name's
    surname ("Ryabkov" beside "Sergei Rybakov") keeps its spelling under that first name, as a vote
    for the cross-document choice.
    """
    names = sorted(persons, key=lambda n: -len(n.split()))
    for name in [n for n in names if len(n.split()) <= 2]:
        tokens = _fold(name).split()
        longer = [f for f in persons if len(f.split()) > len(tokens) and f != name]
        owners = [
            f
            for f in longer
            if _is_part_of(tokens, _fold(f).split())
            and (len(tokens) > 1 or _fold(f).split()[-1] == tokens[0])
        ]
        if not owners and len(tokens) == 1:
            # Family name first (Kim Jong-un → "Kim") when no full name ends with the word.
            owners = [f for f in longer if _fold(f).split()[0] == tokens[0]]
        owners = _longest_only(owners)
        if len(owners) == 1:
            persons[owners[0]] += persons.pop(name)
            continue
        if len(owners) > 1:
            persons.pop(name)
            continue
        if len(tokens) > 1:
            continue
        fuzzy = [f for f in longer if ratio(_fold(f).split()[-1], tokens[0]) >= SURNAME_SIMILARITY]
        if len(fuzzy) == 1:
            persons[" ".join([*fuzzy[0].split()[:-1], name])] += persons.pop(name)
        elif len(fuzzy) > 1:
            persons.pop(name)
    return persons


def _longest_only(names: list[str]) -> list[str]:
    """Return the names that are not themselves part of another name of the list."""
    folded = {n: _fold(n).split() for n in names}
    return [
        n
        for n in names
        if not any(
            o != n and len(folded[o]) > len(folded[n]) and _is_part_of(folded[n], folded[o]) for o in names
        )
    ]


# --- across documents ----------------------------------------------------------------------------
def _same_person(a: str, b: str) -> bool:
    """Return True when two full names are spelling/transliteration variants of one person."""
    ta, tb = _fold(a).split(), _fold(b).split()
    if len(ta) < 2 or len(tb) < 2:
        return False
    if ratio(ta[-1], tb[-1]) < SURNAME_SIMILARITY:
        return False
    first_a, first_b = ta[0], tb[0]
    if len(first_a) == 1 or len(first_b) == 1:
        return first_a[0] == first_b[0]
    return JaroWinkler.similarity(first_a, first_b) >= FIRSTNAME_SIMILARITY


class KnownPeople:
    """The canonical person names of the alias table, to find the first (in sorted order) that
    `_same_person` joins a new name to without comparing it with every one: the table grows with
    every person the index has seen, so a scan made each batch cost more than the last.

    Candidates come from the surnames `ratio` puts at SURNAME_SIMILARITY or above (rapidfuzz over
    the surnames of compatible lengths: a ratio of at least s means the lengths differ by at most
    (1 - s) of their sum); each candidate is then checked with `_same_person` itself, so the answer
    is the one the full scan gives.
    """

    def __init__(self, canonicals: Iterable[str]) -> None:
        names = sorted(set(canonicals))
        self.rank = {name: i for i, name in enumerate(names)}
        self.by_surname: dict[str, list[str]] = defaultdict(list)
        for name in names:
            tokens = _fold(name).split()
            if len(tokens) >= 2:  # `_same_person` joins full names only
                self.by_surname[tokens[-1]].append(name)
        self.by_length: dict[int, list[str]] = defaultdict(list)
        for surname in self.by_surname:
            self.by_length[len(surname)].append(surname)

    def first_same_person(self, name: str) -> str | None:
        """Return the first known canonical (sorted order) that is the same person as `name`."""
        tokens = _fold(name).split()
        if len(tokens) < 2:
            return None
        surname = tokens[-1]
        slack = 1 - SURNAME_SIMILARITY / 100
        found: list[str] = []
        for length, surnames in self.by_length.items():
            if abs(length - len(surname)) > slack * (length + len(surname)) + 1e-9:
                continue
            for other, _score, _ in process.extract(
                surname, surnames, scorer=ratio, score_cutoff=SURNAME_SIMILARITY, limit=None
            ):
                found.extend(self.by_surname[other])
        return next((c for c in sorted(found, key=self.rank.__getitem__) if _same_person(c, name)), None)


def _group_head(group: list[str], counter: Counter[str]) -> str:
    """Return the group's canonical form: the longest form whose words hold another form's, then
    the majority surname spelling, then first name, then count (a name is never shortened)."""
    surnames: Counter[str] = Counter()
    firsts: Counter[str] = Counter()
    for name in group:
        tokens = _fold(name).split()
        surnames[tokens[-1]] += counter[name]
        firsts[tokens[0]] += counter[name]

    def extends(n: str) -> int:
        tokens = _fold(n).split()
        return sum(
            1
            for o in group
            if o != n and len(_fold(o).split()) < len(tokens) and _is_part_of(_fold(o).split(), tokens)
        )

    return max(
        group,
        key=lambda n: (
            extends(n) > 0,
            len(_fold(n).split()) if extends(n) else 0,
            surnames[_fold(n).split()[-1]],
            firsts[_fold(n).split()[0]],
            counter[n],
            n,
        ),
    )


def canonicalise(
    docs: list[DocEntities], aliases: Mapping[str, Mapping[str, str]]
) -> tuple[list[dict[str, list[str]]], list[dict[str, int]], dict[str, dict[str, str]]]:
    """Return per-document canonical entity lists and mention counts, and the aliases learned.

    `aliases` is kind → folded variant → canonical (curated merged with learned). Person names
    not in it are grouped across the batch by `_same_person`; each group takes the name the alias
    table already knows, else its longest form, else its most mentioned form, so facets stay
    stable from run to run.
    """
    learned: dict[str, dict[str, str]] = defaultdict(dict)
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        for kind, counter in d.counts.items():
            totals[kind].update(counter)

    mapping: dict[str, dict[str, str]] = defaultdict(dict)
    for kind, counter in totals.items():
        known = aliases.get(kind, {})
        pending: list[str] = []
        for name in counter:
            canonical = known.get(_fold(name))
            if canonical:
                mapping[kind][name] = canonical
            else:
                pending.append(name)
        if kind == "person":
            known_people = KnownPeople(known.values()) if pending else None
            groups: list[list[str]] = []
            for name in sorted(pending, key=lambda n: (-len(n.split()), -counter[n], n)):
                target = next((g for g in groups if _same_person(g[0], name)), None)
                if target is None:
                    match = known_people.first_same_person(name) if known_people else None
                    if match and not _extends(name, match):
                        mapping[kind][name] = match
                        learned[kind][_fold(name)] = match
                        continue
                    groups.append([name])
                else:
                    target.append(name)
            for group in groups:
                head = _group_head(group, counter)
                for name in group:
                    mapping[kind][name] = head
                    if name != head:
                        learned[kind][_fold(name)] = head
                learned[kind].setdefault(_fold(head), head)
        else:
            for name in pending:
                mapping[kind][name] = name

    entities: list[dict[str, list[str]]] = []
    counts: list[dict[str, int]] = []
    for d in docs:
        per_kind: dict[str, list[str]] = {k: [] for k in KINDS}
        per_count: Counter[str] = Counter()
        for kind, counter in d.counts.items():
            merged: Counter[str] = Counter()
            for name, n in counter.items():
                merged[mapping[kind].get(name, name)] += n
            per_kind[kind] = [name for name, _ in merged.most_common()]
            for name, n in merged.items():
                per_count[f"{kind}:{name}"] += n
        entities.append(per_kind)
        counts.append(dict(per_count))
    return entities, counts, {k: dict(v) for k, v in learned.items()}


def _extends(name: str, known: str) -> bool:
    """Return True when `name` holds every word of `known` and more (joining it would shorten it)."""
    a, b = _fold(name).split(), _fold(known).split()
    return len(a) > len(b) and _is_part_of(b, a)
