#!/usr/bin/env python3
"""Deterministic generator for the dataset-auditor sample data.

Writes train.jsonl, eval.jsonl, schema.json and README.md into the repository's sample_data/
(or into --out DIR).  Everything is driven by random.Random(SEED); there are no
timestamps and no dependence on set/dict iteration order of unhashable data.

The train/eval sets contain deliberately planted problems.  The README carries a
machine-readable oracle (between <!-- planted:begin --> and <!-- planted:end -->)
listing the 1-based physical line numbers of every planted row.

Run:  python tools/sample_data/generate.py [--out DIR] [--quiet]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep the tree free of __pycache__
SAMPLE_DATA = os.path.join(os.path.dirname(os.path.dirname(HERE)), "sample_data")

import pools as P  # noqa: E402  (local data module)

SEED = 20240611
N_TRAIN_LINES = 640
N_EVAL_LINES = 72
REJECT_JACCARD = 0.35  # generation-time rejection threshold (hard limit is 0.5)
HARD_JACCARD = 0.5
WINDOW = 13

SYSTEM_PROMPT = (
    "You are a customer support triage assistant. Read the ticket and reply with only a compact "
    "JSON object giving category, priority, sentiment, needs_human, a one-line summary and up to five tags."
)

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/dataset-auditor/sample_data/schema.json",
    "title": "SupportTicketTriage",
    "description": "Triage result the assistant must emit for one customer-support ticket.",
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": list(P.CATEGORIES)},
        "priority": {"type": "string", "enum": list(P.PRIORITIES)},
        "sentiment": {"type": "string", "enum": list(P.SENTIMENTS)},
        "needs_human": {"type": "boolean"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 200},
        "tags": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "maxItems": 5,
        },
    },
    "required": ["category", "priority", "sentiment", "needs_human", "summary", "tags"],
    "additionalProperties": False,
}

# ---------------------------------------------------------------------------
# text utilities (same normalisation the auditor is expected to use)
# ---------------------------------------------------------------------------
WORD_RE = re.compile(r"\w+")


def norm_words(text: str) -> list[str]:
    t = unicodedata.normalize("NFKC", text).lower()
    t = " ".join(t.split())
    return WORD_RE.findall(t)


def shingles(words: list[str], n: int = 3) -> set:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def windows(words: list[str], n: int = WINDOW) -> set:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


ALT_RE = re.compile(r"\[([^\[\]]*)\]")


def expand(rng: random.Random, template: str, facts: dict) -> str:
    s = template
    while True:
        new = ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), s)
        if new == s:
            break
        s = new
    s = s.format_map(facts)
    s = re.sub(r" {2,}", " ", s).strip()
    s = re.sub(r" ([,.?!])", r"\1", s)
    s = s.replace(",,", ",")
    if s:
        s = s[0].upper() + s[1:]
    return s


# ---------------------------------------------------------------------------
# facts and ticket construction
# ---------------------------------------------------------------------------
def money(rng: random.Random) -> str:
    cur = rng.choice(["$", "$", "$", "£", "€", "A$", "C$"])
    return f"{cur}{rng.randint(9, 1800)}.{rng.choice(['00', '99', '50', '49', str(rng.randint(10, 98))])}"


def error_code(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"E{rng.randint(1000, 9999)}"
    if kind == 1:
        return f"ERR_{rng.choice(['AUTH', 'SYNC', 'PAY', 'IO', 'NET', 'EXPORT', 'SESSION'])}_{rng.randint(10, 999)}"
    if kind == 2:
        return f"0x{rng.randint(0x80000000, 0x8FFFFFFF):08X}"
    if kind == 3:
        return f"{rng.choice(['AUTH', 'PAY', 'SYN', 'API', 'UPL'])}-{rng.randint(100, 999)}"
    return f"code {rng.randint(40, 59)}{rng.randint(0, 9)}-{rng.randint(1, 99)}"


def order_id(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"#{rng.randint(100000, 999999)}"
    if kind == 1:
        return f"ORD-{rng.randint(10000, 99999)}"
    if kind == 2:
        return f"{rng.choice('ABCDEFGHJKMNPRSTW')}{rng.randint(1000000, 9999999)}"
    return f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}"


def make_facts(rng: random.Random, shop: bool) -> dict:
    first = rng.choice(P.FIRST)
    last = rng.choice(P.LAST)
    first2 = rng.choice([f for f in P.FIRST if f != first])
    company = rng.choice(P.COMPANIES)
    product = rng.choice(P.PRODUCTS)
    shop_name = rng.choice(P.SHOPS)
    month_i = rng.randrange(12)
    day = rng.randint(1, 28)
    day2 = rng.randint(1, 28)
    feature, feature_tag = rng.choice(P.FEATURES)
    item = rng.choice(P.ITEMS)
    domain = re.sub(r"[^a-z]", "", company.lower())[:12] + rng.choice([".com", ".co.uk", ".io", ".net", ".ca"])
    email = rng.choice([
        f"{first.lower()}.{last.lower()}@{domain}",
        f"{first.lower()}{rng.randint(1, 99)}@{rng.choice(['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'icloud.com'])}",
        f"{first[0].lower()}{last.lower()}@{domain}",
    ])
    facts = {
        "first": first,
        "last": last,
        "first2": first2,
        "email": email,
        "company": company,
        "brand": shop_name if shop else product,
        "product": product,
        "shop": shop_name,
        "item": item,
        "a_item": ("an " if item[0] in "aeiou" else "a ") + item,
        "plan": rng.choice(P.PLANS),
        "month": P.MONTHS[month_i],
        "month2": P.MONTHS[(month_i + 1) % 12],
        "date": f"{P.MONTHS[month_i]} {day}",
        "date2": f"{P.MONTHS[(month_i + rng.randint(0, 1)) % 12]} {day2}",
        "weekday": rng.choice(P.WEEKDAYS),
        "time": f"{rng.randint(7, 20)}:{rng.choice(['05', '12', '20', '34', '41', '55'])}",
        "year": str(rng.randint(2016, 2023)),
        "amount": money(rng),
        "amount2": money(rng),
        "invoice": f"INV-{rng.randint(2022, 2024)}-{rng.randint(1000, 99999)}",
        "order": order_id(rng),
        "tracking": f"{rng.choice(['1Z', 'JD', 'TBA', 'LX', 'RR'])}{rng.randint(10**9, 10**10 - 1)}",
        "ecode": error_code(rng),
        "version": f"{rng.randint(2, 9)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}",
        "device": rng.choice(P.DEVICES),
        "os": rng.choice(P.OSES),
        "browser": rng.choice(P.BROWSERS),
        "carrier": rng.choice(P.CARRIERS),
        "city": rng.choice(P.CITIES),
        "street": f"{rng.randint(2, 980)} {rng.choice(['Elm', 'Harbour', 'Station', 'Mill', 'Queen', 'Birch', 'Lake', 'Church', 'Hill', 'Park'])} {rng.choice(['Street', 'Road', 'Avenue', 'Lane', 'Way'])}",
        "role": rng.choice(P.ROLES),
        "seats": str(rng.randint(3, 140)),
        "card4": f"{rng.randint(0, 9999):04d}",
        "expiry": f"{rng.randint(1, 12):02d}/{rng.randint(25, 30)}",
        "vat": f"{rng.choice(['GB', 'IE', 'DE', 'NL'])}{rng.randint(100000000, 999999999)}",
        "addon": rng.choice(["SMS credits", "extra storage", "premium support", "analytics", "API usage"]),
        "n": str(rng.randint(2, 9)),
        "hours": str(rng.randint(2, 18)),
        "feature": feature,
        "feature_tag": feature_tag,
    }
    return facts


def needs_human(category: str, priority: str, sentiment: str) -> bool:
    if priority in ("high", "urgent"):
        return True
    if category in ("refund", "data_privacy", "cancellation"):
        return True
    if category == "billing" and sentiment == "negative":
        return True
    return False


class Ticket:
    __slots__ = ("user", "label", "category", "sub", "words")

    def __init__(self, user: str, label: dict, category: str, sub: str):
        self.user = user
        self.label = label
        self.category = category
        self.sub = sub
        self.words = len(norm_words(user))


def build_ticket(rng: random.Random, category: str, min_words: int = 25, max_words: int = 120,
                 extra_paragraph: str | None = None, sub_key: str | None = None) -> Ticket:
    subs = [x for x in P.SUBISSUES[category] if sub_key is None or x["key"] == sub_key]
    while True:
        sub = rng.choice(subs)
        facts = make_facts(rng, shop=sub["key"] in P.SHOP_SUBISSUES)
        priority = rng.choice(sub["priorities"])
        sentiment = rng.choice(sub["sentiments"])
        if priority == "low" and sentiment == "negative":
            sentiment = "neutral"
        parts: list[str] = []
        if rng.random() < 0.6:
            parts.append(expand(rng, rng.choice(P.GREETINGS), facts))
        if rng.random() < 0.35:
            intros = P.SHOP_INTROS if sub["key"] in P.SHOP_SUBISSUES else P.INTROS
            parts.append(expand(rng, rng.choice(intros), facts))
        parts.append(expand(rng, rng.choice(sub["problem"]), facts))
        details = list(sub["details"])
        rng.shuffle(details)
        k = rng.choice([1, 1, 2, 2, 3]) if len(details) >= 3 else rng.choice([1, 2, 2])
        for d in details[:k]:
            parts.append(expand(rng, d, facts))
        if extra_paragraph:
            parts.append(extra_paragraph)
        if rng.random() < 0.55:
            parts.append(expand(rng, rng.choice(sub.get("attempts", P.ATTEMPTS[category])), facts))
        if rng.random() < 0.7:
            parts.append(expand(rng, rng.choice(P.URGENCY[priority]), facts))
        tone = expand(rng, rng.choice(P.TONE[sentiment]), facts)
        if tone:
            parts.append(tone)
        if rng.random() < 0.6:
            parts.append(expand(rng, rng.choice(P.CLOSINGS), facts))
        if rng.random() < 0.55:
            parts.append(expand(rng, rng.choice(P.SIGNOFFS), facts))
        user = " ".join(p for p in parts if p)
        nw = len(norm_words(user))
        if not (min_words <= nw <= max_words):
            continue
        # only summaries whose facts actually appear in the ticket
        cands = [s for s in sub["summary"]
                 if all(str(facts[k]) in user for k in re.findall(r"\{(\w+)\}", s))]
        if not cands:
            continue
        summary = expand(rng, rng.choice(cands), facts)
        tags = list(sub["tags"])
        rng.shuffle(tags)
        tags = tags[: rng.choice([2, 2, 3])]
        if category == "feature_request" and sub["key"] == "new_feature":
            tags.append(facts["feature_tag"])
        label = {
            "category": category,
            "priority": priority,
            "sentiment": sentiment,
            "needs_human": needs_human(category, priority, sentiment),
            "summary": summary,
            "tags": tags,
        }
        return Ticket(user, label, category, sub["key"])


class Registry:
    """Accepts only tickets that are far (Jaccard, 13-word windows) from all accepted ones."""

    def __init__(self):
        self.sh: list[set] = []
        self.index: dict = {}
        self.sh_ua: list[set] = []
        self.index_ua: dict = {}
        self.win: dict = {}

    @staticmethod
    def _too_close(s: set, index: dict, sets: list, exempt: frozenset) -> bool:
        cnt: Counter = Counter()
        for g in s:
            for rid in index.get(g, ()):
                cnt[rid] += 1
        for rid, c in cnt.items():
            if rid not in exempt and c / (len(s) + len(sets[rid]) - c) >= REJECT_JACCARD:
                return True
        return False

    def check(self, text: str, assistant: str = "", exempt: frozenset = frozenset()) -> bool:
        w = norm_words(text)
        for x in windows(w):
            owner = self.win.get(x)
            if owner is not None and owner not in exempt:
                return False
        if self._too_close(shingles(w), self.index, self.sh, exempt):
            return False
        s_ua = shingles(norm_words(text + " " + assistant))
        return not self._too_close(s_ua, self.index_ua, self.sh_ua, exempt)

    def add(self, text: str, assistant: str = "") -> int:
        rid = len(self.sh)
        w = norm_words(text)
        s = shingles(w)
        s_ua = shingles(norm_words(text + " " + assistant))
        self.sh.append(s)
        self.sh_ua.append(s_ua)
        for g in sorted(s):
            self.index.setdefault(g, []).append(rid)
        for g in sorted(s_ua):
            self.index_ua.setdefault(g, []).append(rid)
        for x in windows(w):
            self.win.setdefault(x, rid)
        return rid


def fresh_ticket(rng, reg: Registry, category: str, **kw) -> Ticket:
    for _ in range(5000):
        t = build_ticket(rng, category, **kw)
        a = dumps_label(t.label)
        if reg.check(t.user, a):
            reg.add(t.user, a)
            return t
    raise AssertionError(f"could not generate a distinct {category} ticket")


def reword(rng: random.Random, text: str) -> str:
    """Light edit: 1-2 word substitutions/insertions plus a punctuation/case tweak."""
    out = text
    n_ops = rng.choice([1, 1, 2])
    for _ in range(n_ops):
        if rng.random() < 0.65:
            cands = [(a, b) for a, b in P.SYNONYMS if re.search(r"\b" + re.escape(a) + r"\b", out)]
            if cands:
                a, b = rng.choice(cands)
                hits = [m.start() for m in re.finditer(r"\b" + re.escape(a) + r"\b", out)]
                pos = rng.choice(hits)
                out = out[:pos] + b + out[pos + len(a):]
                continue
        # insert a short lead-in at a sentence start (not the first sentence)
        starts = [m.end() for m in re.finditer(r"[.!?] ", out)]
        if starts:
            pos = rng.choice(starts)
            ins = rng.choice(P.INSERTS)
            out = out[:pos] + ins + out[pos].lower() + out[pos + 1:]
    # cosmetic tweak: punctuation or case
    tweak = rng.randrange(3)
    if tweak == 0 and ". " in out:
        idx = [m.start() for m in re.finditer(r"\. ", out)]
        pos = rng.choice(idx)
        out = out[:pos] + "!" + out[pos + 1:]
    elif tweak == 1 and "," in out:
        out = out.replace(",", "", 1)
    else:
        out = out[0].lower() + out[1:]
    return out


def near_variant(rng, text: str, assistant: str, lo: float = 0.86, hi: float = 0.97) -> str:
    base_u = shingles(norm_words(text))
    base_ua = shingles(norm_words(text + " " + assistant))
    for _ in range(500):
        v = reword(rng, text)
        if norm_words(v) == norm_words(text):
            continue
        ju = jaccard(base_u, shingles(norm_words(v)))
        jua = jaccard(base_ua, shingles(norm_words(v + " " + assistant)))
        if lo <= ju <= hi and lo <= jua <= hi:
            return v
    raise AssertionError("could not produce a near-duplicate in range")


# ---------------------------------------------------------------------------
# hand-written non-English tickets
# ---------------------------------------------------------------------------
SCHEMA_DETAILS = ["missing required key `sentiment`", "`priority` is \"critical\" (not in enum)",
                  "`needs_human` is the string \"yes\"", "extra key `confidence`", "`tags` has more than 5 items"]

LANG_NAMES = {"de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "pt": "Portuguese"}

NON_ENGLISH = [
    ("de", "Hallo zusammen, seit dem Update auf Version 4.2 kann ich mich nicht mehr in mein Konto bei Kontorix "
           "einloggen. Jedes Mal erscheint die Fehlermeldung AUTH-417 und mein Passwort wird angeblich nicht erkannt, "
           "obwohl ich es schon zweimal zurückgesetzt habe. Ich brauche dringend Zugriff auf meine Rechnungen für die "
           "Buchhaltung. Viele Grüße, Jürgen Hoffmann",
     {"category": "account_access", "priority": "high", "sentiment": "negative", "needs_human": True,
      "summary": "Kunde kann sich seit Update 4.2 wegen Fehler AUTH-417 nicht mehr anmelden",
      "tags": ["anmeldung", "passwort"]}),
    ("es", "Buenas tardes. Hice el pedido número PD-58214 hace tres semanas y todavía no ha llegado. El seguimiento "
           "de la empresa de transporte dice que el paquete está en Zaragoza desde el día 12 y no se mueve. Necesito "
           "los auriculares para un viaje la próxima semana. ¿Podéis decirme qué está pasando o enviarme uno nuevo? "
           "Gracias, Lucía Fernández",
     {"category": "shipping", "priority": "medium", "sentiment": "negative", "needs_human": False,
      "summary": "El pedido PD-58214 lleva tres semanas retenido en Zaragoza sin avanzar",
      "tags": ["envío", "retraso"]}),
    ("fr", "Bonjour, j'ai été prélevée deux fois de 49,90 € pour mon abonnement Premium ce mois-ci, le 3 et le 4 mars. "
           "Je n'ai qu'un seul compte et je n'ai rien modifié dans mes paramètres de paiement. Pourriez-vous annuler "
           "le second prélèvement et me confirmer le remboursement par e-mail ? Merci d'avance, Camille Rousseau",
     {"category": "billing", "priority": "high", "sentiment": "negative", "needs_human": True,
      "summary": "Cliente prélevée deux fois pour l'abonnement Premium en mars, demande de remboursement",
      "tags": ["double-prélèvement", "facturation"]}),
    ("it", "Buongiorno, l'applicazione per Android si chiude ogni volta che provo ad allegare una foto a una nota. "
           "Ho già disinstallato e reinstallato l'app e riavviato il telefono, ma il problema continua. Uso un "
           "Samsung Galaxy S21 con Android 14. Potete aiutarmi a capire cosa succede? Grazie mille, Marco Bianchi",
     {"category": "bug_report", "priority": "medium", "sentiment": "neutral", "needs_human": False,
      "summary": "L'app Android si chiude quando si allega una foto a una nota",
      "tags": ["crash", "android"]}),
    ("pt", "Olá, gostaria de cancelar a minha assinatura anual do plano Família antes da renovação automática no dia 28. "
           "Já tentei fazer isso pelo aplicativo, mas o botão de cancelamento não aparece nas configurações da conta. "
           "Por favor, confirmem o cancelamento por e-mail e não cobrem o próximo ano. Obrigado, Rafael Souza",
     {"category": "cancellation", "priority": "medium", "sentiment": "neutral", "needs_human": True,
      "summary": "Cliente quer cancelar a assinatura anual antes da renovação automática",
      "tags": ["cancelamento", "assinatura"]}),
]

LANGUAGE_MISMATCH = (
    "de", "Guten Tag, meine Lieferung mit der Bestellnummer 77-40318 ist laut Sendungsverfolgung seit Montag "
          "zugestellt, aber bei mir ist nichts angekommen. Ich habe bei den Nachbarn und im Paketkasten nachgesehen. "
          "Bitte prüfen Sie das mit dem Paketdienst und schicken Sie mir so schnell wie möglich Ersatz. "
          "Mit freundlichen Grüßen, Sabine Krüger",
    {"category": "shipping", "priority": "high", "sentiment": "negative", "needs_human": True,
     "summary": "Order 77-40318 marked delivered on Monday but never received by the customer",
     "tags": ["missing-parcel", "delivered-not-received"]},
)

# A pasted log paragraph shared verbatim between one train row and one eval row (ngram leak).
LEAK_PARAGRAPH = (
    "The exact message is: export job 88213 failed at stage 3 of 5 because the worker could not acquire "
    "a lock on table ledger_entries within 30 seconds, please retry later or contact your administrator."
)

# ---------------------------------------------------------------------------
# records and serialisation
# ---------------------------------------------------------------------------
def dumps_label(label: dict) -> str:
    return json.dumps(label, ensure_ascii=False)


def record(user: str, assistant: str) -> dict:
    return {"messages": [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
        {"role": "assistant", "content": assistant},
    ]}


def line_of(rec) -> str:
    return json.dumps(rec, ensure_ascii=False)


def category_plan(rng: random.Random, total: int) -> list[str]:
    counts = {c: int(round(P.CATEGORY_WEIGHTS[c] * total)) for c in P.CATEGORIES}
    diff = total - sum(counts.values())
    counts["billing"] += diff
    plan = [c for c in P.CATEGORIES for _ in range(counts[c])]
    rng.shuffle(plan)
    return plan


def generate() -> dict:
    rng = random.Random(SEED)
    reg = Registry()

    # Register the hand-written texts first so nothing generated collides with them.
    for _, text, lab in NON_ENGLISH:
        reg.add(text, dumps_label(lab))
    reg.add(LANGUAGE_MISMATCH[1], dumps_label(LANGUAGE_MISMATCH[2]))

    # --- plan --------------------------------------------------------------
    n_planted_train = {
        "invalid_json": 2, "not_object": 1, "format": 2, "exact_dup_sizes": [3, 2, 2, 2],
        "near_dup": 4, "contradictions": 3, "schema_invalid": 5, "not_json": 1, "code_fence": 1,
    }
    n_special_bases = (n_planted_train["invalid_json"] + n_planted_train["format"]
                       + len(n_planted_train["exact_dup_sizes"]) + n_planted_train["near_dup"]
                       + n_planted_train["contradictions"] + n_planted_train["schema_invalid"]
                       + n_planted_train["not_json"] + n_planted_train["code_fence"])
    planted_train_lines = (2 + 1 + 2 + sum(n_planted_train["exact_dup_sizes"]) + 2 * 4 + 2 * 3 + 5 + 1 + 1
                           + len(NON_ENGLISH) + 1)
    n_clean_train = N_TRAIN_LINES - planted_train_lines - 1  # -1: the ngram-leak source row
    n_clean_eval = N_EVAL_LINES - 2 - 2 - 1

    cats = category_plan(rng, n_clean_train + n_special_bases + n_clean_eval)
    ci = iter(cats)

    # --- clean train rows -----------------------------------------------------
    clean_train: list[Ticket] = [fresh_ticket(rng, reg, next(ci)) for _ in range(n_clean_train)]
    leak_src_ngram = fresh_ticket(rng, reg, "bug_report", min_words=40, extra_paragraph=LEAK_PARAGRAPH,
                                 sub_key="export_broken")
    clean_train.append(leak_src_ngram)

    # --- planted train rows ---------------------------------------------------
    # each entry: (kind, line_text, group_key or None)
    units: list[tuple[str, str, object]] = []
    notes: dict[int, str] = {}  # unit index -> human note for the README

    def clean_units():
        for t in clean_train:
            units.append(("clean", line_of(record(t.user, dumps_label(t.label))), None))

    clean_units()

    # invalid JSON: truncated record, trailing comma
    t = fresh_ticket(rng, reg, next(ci))
    full = line_of(record(t.user, dumps_label(t.label)))
    cut = full.find(t.user) + len(t.user) // 2
    units.append(("invalid_json", full[:cut], None))
    notes[len(units) - 1] = "record truncated in the middle of the user message"
    t = fresh_ticket(rng, reg, next(ci))
    full = line_of(record(t.user, dumps_label(t.label)))
    units.append(("invalid_json", full[:-1] + ",}", None))
    notes[len(units) - 1] = "trailing comma before the closing brace"

    # not an object
    units.append(("not_object", json.dumps(["ticket", 1]), None))
    notes[len(units) - 1] = "a JSON array, not an object"

    # chat-format errors
    t = fresh_ticket(rng, reg, next(ci))
    units.append(("format", line_of({"messages": [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": t.user},
    ]}), None))
    notes[len(units) - 1] = "conversation ends with the user turn (no assistant message)"
    t = fresh_ticket(rng, reg, next(ci))
    units.append(("format", line_of({"messages": [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": t.user},
        {"role": "bot", "content": dumps_label(t.label)},
    ]}), None))
    notes[len(units) - 1] = "answer has role \"bot\" instead of \"assistant\""

    # exact duplicates
    for gi, size in enumerate(n_planted_train["exact_dup_sizes"]):
        t = fresh_ticket(rng, reg, next(ci))
        ln = line_of(record(t.user, dumps_label(t.label)))
        for _ in range(size):
            units.append(("exact_duplicates", ln, gi))

    # near duplicates (same assistant JSON, lightly reworded user text)
    for gi in range(n_planted_train["near_dup"]):
        t = fresh_ticket(rng, reg, next(ci), min_words=60)
        a = dumps_label(t.label)
        v = near_variant(rng, t.user, a)
        assert reg.check(v, a, exempt=frozenset([len(reg.sh) - 1]))
        units.append(("near_duplicates", line_of(record(t.user, a)), gi))
        units.append(("near_duplicates", line_of(record(v, a)), gi))

    # contradictions: identical prompt, different category or priority
    alt_cat = {"billing": "refund", "refund": "billing", "bug_report": "performance",
               "performance": "bug_report", "shipping": "refund", "account_access": "bug_report",
               "cancellation": "billing", "data_privacy": "account_access", "feature_request": "bug_report"}
    alt_pri = {"low": "high", "medium": "urgent", "high": "low", "urgent": "medium"}
    for gi in range(n_planted_train["contradictions"]):
        t = fresh_ticket(rng, reg, next(ci))
        other = dict(t.label)
        if gi == 1:
            other["priority"] = alt_pri[other["priority"]]
        else:
            other["category"] = alt_cat[other["category"]]
        units.append(("contradictions", line_of(record(t.user, dumps_label(t.label))), gi))
        units.append(("contradictions", line_of(record(t.user, dumps_label(other))), gi))

    # schema-invalid assistant JSON
    bad_makers = [
        lambda lab: {k: v for k, v in lab.items() if k != "sentiment"},          # missing required key
        lambda lab: {**lab, "priority": "critical"},                              # enum violation
        lambda lab: {**lab, "needs_human": "yes"},                                # wrong type
        lambda lab: {**lab, "confidence": 0.92},                                  # extra key
        lambda lab: {**lab, "tags": lab["tags"] + ["follow-up", "vip", "escalated", "q3", "churn-risk"]},  # maxItems
    ]
    for mk, note in zip(bad_makers, SCHEMA_DETAILS):
        t = fresh_ticket(rng, reg, next(ci))
        units.append(("schema_invalid", line_of(record(t.user, dumps_label(mk(t.label)))), None))
        notes[len(units) - 1] = note

    # plain-text answer
    t = fresh_ticket(rng, reg, next(ci))
    lab = t.label
    text = (f"This looks like a {lab['category'].replace('_', ' ')} issue with {lab['priority']} priority. "
            f"{lab['summary']}. I would route it to a human agent.")
    units.append(("not_json", line_of(record(t.user, text)), None))

    # JSON wrapped in a Markdown fence
    t = fresh_ticket(rng, reg, next(ci))
    units.append(("code_fence", line_of(record(t.user, "```json\n" + dumps_label(t.label) + "\n```")), None))

    # non-English and language mismatch
    for lang, text, lab in NON_ENGLISH:
        units.append(("non_english", line_of(record(text, dumps_label(lab))), None))
        notes[len(units) - 1] = f"ticket and summary in {LANG_NAMES[lang]}"
    units.append(("language_mismatch", line_of(record(LANGUAGE_MISMATCH[1], dumps_label(LANGUAGE_MISMATCH[2]))), None))

    assert len(units) == N_TRAIN_LINES, len(units)

    # --- eval -------------------------------------------------------------
    eval_units: list[tuple[str, str, object]] = []
    for _ in range(n_clean_eval):
        t = fresh_ticket(rng, reg, next(ci))
        eval_units.append(("clean", line_of(record(t.user, dumps_label(t.label))), None))
    assert next(ci, None) is None

    pool_idx = [i for i in range(len(clean_train) - 1)]  # exclude the ngram source
    rng.shuffle(pool_idx)
    exact_src = pool_idx[:2]
    near_src = [i for i in pool_idx[2:] if clean_train[i].words >= 60][:2]
    assert len(near_src) == 2
    for i in exact_src:
        t = clean_train[i]
        eval_units.append(("leak_exact", line_of(record(t.user, dumps_label(t.label))), ("src", i)))
    for i in near_src:
        t = clean_train[i]
        a = dumps_label(t.label)
        v = near_variant(rng, t.user, a)
        eval_units.append(("leak_near", line_of(record(v, a)), ("src", i)))
    # ngram leak: a different bug report that pastes the same error paragraph
    src_rid = None
    for rid, s in enumerate(reg.sh):
        if s == shingles(norm_words(leak_src_ngram.user)):
            src_rid = rid
            break
    for _ in range(5000):
        t = build_ticket(rng, "bug_report", min_words=40, extra_paragraph=LEAK_PARAGRAPH,
                                 sub_key="export_broken")
        a = dumps_label(t.label)
        if reg.check(t.user, a, exempt=frozenset([src_rid])):
            reg.add(t.user, a)
            break
    else:
        raise AssertionError("no ngram leak row")
    # The eval ticket opens with its own first sentence, then quotes the train ticket's middle verbatim:
    # substantially in train (a shared phrase alone would not be a leak). Drawn as above, so that every
    # other row keeps its place.
    quoted = re.split(r"(?<=[.!?])\s+", leak_src_ngram.user)[1:-3]
    opening = re.split(r"(?<=[.!?])\s+", t.user)[0]
    eval_units.append(("leak_ngram", line_of(record(" ".join([opening, *quoted]), dumps_label(t.label))),
                       ("src", len(clean_train) - 1)))
    assert len(eval_units) == N_EVAL_LINES

    # --- layout -----------------------------------------------------------
    order = list(range(len(units)))
    rng.shuffle(order)
    train_lines = [units[i][1] for i in order]
    pos_of_unit = {u: p + 1 for p, u in enumerate(order)}  # unit index -> 1-based line

    eorder = list(range(len(eval_units)))
    rng.shuffle(eorder)
    eval_lines = [eval_units[i][1] for i in eorder]
    epos_of_unit = {u: p + 1 for p, u in enumerate(eorder)}

    # --- oracle -----------------------------------------------------------
    train_or: dict = {k: [] for k in ["invalid_json", "not_object", "format", "exact_duplicates",
                                      "near_duplicates", "contradictions", "schema_invalid", "not_json",
                                      "code_fence", "non_english", "language_mismatch"]}
    groups: dict = {}
    for ui, (kind, _, g) in enumerate(units):
        if kind == "clean":
            continue
        if g is None:
            train_or[kind].append(pos_of_unit[ui])
        else:
            groups.setdefault((kind, g), []).append(pos_of_unit[ui])
    for (kind, g), lines in sorted(groups.items()):
        train_or[kind].append(sorted(lines))
    for k, v in train_or.items():
        if v and isinstance(v[0], list):
            v.sort(key=lambda c: c[0])
        else:
            v.sort()

    eval_or: dict = {"leak_exact": {}, "leak_near": {}, "leak_ngram": {}}
    for ui, (kind, _, g) in enumerate(eval_units):
        if kind == "clean":
            continue
        src_train_line = pos_of_unit[g[1]]  # clean_train index == unit index (clean units come first)
        eval_or[kind][epos_of_unit[ui]] = [src_train_line]
    for k in eval_or:
        eval_or[k] = {str(e): eval_or[k][e] for e in sorted(eval_or[k])}

    oracle = {"train.jsonl": train_or, "eval.jsonl": eval_or}
    line_notes = {pos_of_unit[ui]: n for ui, n in notes.items()}
    return {"train": train_lines, "eval": eval_lines, "oracle": oracle, "notes": line_notes}


# ---------------------------------------------------------------------------
# verification (brute force, runs on every generation)
# ---------------------------------------------------------------------------
def _user_and_assistant(line: str):
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    msgs = obj.get("messages", [])
    user = next((m["content"] for m in msgs if m.get("role") == "user"), None)
    asst = next((m["content"] for m in msgs if m.get("role") == "assistant"), "")
    if user is None:
        return None
    return user, asst


def verify(data: dict, quiet: bool = False) -> float:
    import jsonschema  # verification-only dependency

    validator = jsonschema.Draft202012Validator(SCHEMA)
    train, evl, oracle = data["train"], data["eval"], data["oracle"]
    to, eo = oracle["train.jsonl"], oracle["eval.jsonl"]
    assert len(train) >= 620 and len(evl) >= 70

    # every planted line in exactly one category
    seen: dict = {}
    for k, v in to.items():
        flat = [x for c in v for x in c] if v and isinstance(v[0], list) else list(v)
        for x in flat:
            assert x not in seen, (x, k, seen.get(x))
            seen[x] = k
    eseen: dict = {}
    for k, v in eo.items():
        for e in v:
            assert e not in eseen
            eseen[e] = k
    planted_train = set(seen)
    leak_src_lines = {t for v in eo.values() for ts in v.values() for t in ts}
    assert not (leak_src_lines & planted_train), "leak sources must be clean train rows"

    minimums = {"invalid_json": 2, "not_object": 1, "format": 2, "exact_duplicates": 3, "near_duplicates": 4,
                "contradictions": 3, "schema_invalid": 4, "not_json": 1, "code_fence": 1, "non_english": 4,
                "language_mismatch": 1}
    for k, m in minimums.items():
        assert len(to[k]) >= m, k
    assert any(len(c) == 3 for c in to["exact_duplicates"])
    for k, m in {"leak_exact": 2, "leak_near": 2, "leak_ngram": 1}.items():
        assert len(eo[k]) >= m, k

    for ln in to["invalid_json"]:
        try:
            json.loads(train[ln - 1])
        except json.JSONDecodeError:
            pass
        else:
            raise AssertionError(f"line {ln} parses")
    for ln in to["not_object"]:
        assert not isinstance(json.loads(train[ln - 1]), dict)
    for ln in to["format"]:
        obj = json.loads(train[ln - 1])
        roles = [m["role"] for m in obj["messages"]]
        assert roles[-1] != "assistant" or "bot" in roles
    for ln in to["schema_invalid"]:
        ua = _user_and_assistant(train[ln - 1])
        assert not validator.is_valid(json.loads(ua[1])), ln
    for ln in to["not_json"]:
        try:
            json.loads(_user_and_assistant(train[ln - 1])[1])
        except json.JSONDecodeError:
            pass
        else:
            raise AssertionError(ln)
    for ln in to["code_fence"]:
        a = _user_and_assistant(train[ln - 1])[1]
        assert a.startswith("```json\n") and a.endswith("\n```")
        assert validator.is_valid(json.loads(a[len("```json\n"):-len("\n```")]))

    # rows: (file, line, user, assistant)
    rows = []
    for name, lines, skip in (("train", train, planted_train), ("eval", evl, set())):
        for i, line in enumerate(lines, 1):
            assert "\n" not in line and "\r" not in line
            ua = _user_and_assistant(line)
            if ua is None:
                continue
            rows.append((name, i, ua[0], ua[1]))
            obj = json.loads(line)
            assert obj["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
            if name == "train" and i in planted_train and seen[i] in ("schema_invalid", "not_json",
                                                                       "code_fence", "format"):
                continue
            lab = json.loads(ua[1])
            assert ua[1] == dumps_label(lab)
            assert validator.is_valid(lab), (name, i)
            if not (name == "train" and seen.get(i) in ("non_english", "language_mismatch")):
                assert len(norm_words(ua[0])) >= 25, (name, i)
                assert len(lab["summary"].split()) >= 6, (name, i, lab["summary"])
                assert all(ord(c) < 0x80 or c in "£€" for c in ua[0] + lab["summary"]), (name, i)
    for ln in to["non_english"] + to["language_mismatch"]:
        assert len(norm_words(_user_and_assistant(train[ln - 1])[0])) >= 30

    # allowed (planted) pairs
    allowed = set()

    def allow(a, b):
        allowed.add((a, b))
        allowed.add((b, a))

    for k in ("exact_duplicates", "near_duplicates", "contradictions"):
        for c in to[k]:
            for x in c:
                for y in c:
                    if x != y:
                        allow(("train", x), ("train", y))
    for k, v in eo.items():
        for e, ts in v.items():
            for t in ts:
                allow(("eval", int(e)), ("train", t))

    # planted pairs really have the required properties
    def get(name, ln):
        return next(r for r in rows if r[0] == name and r[1] == ln)

    for c in to["exact_duplicates"]:
        assert len({train[x - 1] for x in c}) == 1
    for c in to["near_duplicates"]:
        a, b = get("train", c[0]), get("train", c[1])
        assert a[3] == b[3] and norm_words(a[2]) != norm_words(b[2])
        assert jaccard(shingles(norm_words(a[2] + " " + a[3])), shingles(norm_words(b[2] + " " + b[3]))) >= 0.85
    for c in to["contradictions"]:
        a, b = get("train", c[0]), get("train", c[1])
        la, lb = json.loads(a[3]), json.loads(b[3])
        assert a[2] == b[2] and (la["category"] != lb["category"] or la["priority"] != lb["priority"])
    for e, ts in eo["leak_exact"].items():
        assert evl[int(e) - 1] == train[ts[0] - 1]
    for e, ts in eo["leak_near"].items():
        a, b = get("eval", int(e)), get("train", ts[0])
        assert a[2] != b[2]
        assert jaccard(shingles(norm_words(a[2])), shingles(norm_words(b[2]))) >= 0.85
    for e, ts in eo["leak_ngram"].items():
        a, b = get("eval", int(e)), get("train", ts[0])
        wa, wb = norm_words(a[2]), norm_words(b[2])
        shared = windows(wb, 13)
        covered = {i + k for i in range(len(wa) - 12) if tuple(wa[i:i + 13]) in shared for k in range(13)}
        assert len(covered) >= 0.8 * len(wa)  # substantially in train: the leakage check's coverage rule
        assert jaccard(shingles(wa), shingles(wb)) < 0.7  # too different overall for a near-duplicate

    # brute-force all pairs
    prep = []
    for r in rows:
        wu = norm_words(r[2])
        prep.append(((r[0], r[1]), shingles(wu), shingles(norm_words(r[2] + " " + r[3])), windows(wu),
                     " ".join(wu), r[2]))
    max_u = max_ua = 0.0
    for i in range(len(prep)):
        ki, su, sua, wi, nu, raw = prep[i]
        for j in range(i + 1, len(prep)):
            kj = prep[j][0]
            if (ki, kj) in allowed:
                continue
            ju = jaccard(su, prep[j][1])
            jua = jaccard(sua, prep[j][2])
            max_u = max(max_u, ju)
            max_ua = max(max_ua, jua)
            assert ju < HARD_JACCARD and jua < HARD_JACCARD, (ki, kj, ju, jua)
            assert not (wi & prep[j][3]), (ki, kj, "shared 13-word window")
            assert raw != prep[j][5] and nu != prep[j][4], (ki, kj, "identical user text")

    # clean & unique counts
    clean_train = [ln for ln in range(1, len(train) + 1) if ln not in planted_train]
    dup_extra = sum(len(c) - 1 for c in to["exact_duplicates"])
    assert len(clean_train) >= 560, len(clean_train)
    n_eval_clean = len(evl) - sum(len(v) for v in eo.values())
    assert n_eval_clean >= 60
    assert dup_extra >= 4

    # category distribution (train rows that parse to a label)
    cat_counts: Counter = Counter()
    for r in rows:
        if r[0] != "train":
            continue
        try:
            lab = json.loads(r[3])
        except json.JSONDecodeError:
            continue
        if isinstance(lab, dict) and lab.get("category") in P.CATEGORIES:
            cat_counts[lab["category"]] += 1
    for c in P.CATEGORIES:
        assert cat_counts[c] >= 15, (c, cat_counts[c])

    if not quiet:
        print(f"train lines: {len(train)}  eval lines: {len(evl)}  clean train rows: {len(clean_train)}  "
              f"clean eval rows: {n_eval_clean}")
        print("train categories:", ", ".join(f"{c}={cat_counts[c]}" for c in P.CATEGORIES))
        print(f"max unplanted Jaccard: user={max_u:.4f} user+assistant={max_ua:.4f}")
    return max(max_u, max_ua)


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------
DESCRIPTIONS = {
    "invalid_json": "line is not valid JSON (truncated record / trailing comma)",
    "not_object": "valid JSON that is not an object",
    "format": "chat-format error (conversation ends with a user turn / role \"bot\")",
    "exact_duplicates": "identical records (system, user and assistant text)",
    "near_duplicates": "user text lightly reworded, same assistant JSON (3-gram Jaccard >= 0.85)",
    "contradictions": "identical prompt, assistant JSON disagrees on category or priority",
    "schema_invalid": "assistant JSON violates schema.json",
    "not_json": "assistant answer is plain text, not JSON",
    "code_fence": "assistant JSON wrapped in a Markdown code fence (json)",
    "non_english": "ticket and summary not in English",
    "language_mismatch": "German ticket with an English summary",
    "leak_exact": "eval row identical to a train row",
    "leak_near": "eval row lightly edited from a train row (3-gram Jaccard >= 0.85)",
    "leak_ngram": "a train ticket quoted almost whole under a new opening line: most of its words in shared 13-word runs, too different overall for a near-duplicate",
}



def render_oracle(oracle: dict) -> str:
    """Pretty JSON with one line per planted category (parses to the same object)."""
    out = ["{"]
    files = list(oracle.items())
    for fi, (fname, cats) in enumerate(files):
        out.append(f"  {json.dumps(fname)}: {{")
        items = list(cats.items())
        for ci_, (k, v) in enumerate(items):
            comma = "," if ci_ < len(items) - 1 else ""
            out.append(f"    {json.dumps(k)}: {json.dumps(v)}{comma}")
        out.append("  }" + ("," if fi < len(files) - 1 else ""))
    out.append("}")
    text = "\n".join(out)
    assert json.loads(text) == oracle
    return text


def render_readme(data: dict) -> str:
    to, eo = data["oracle"]["train.jsonl"], data["oracle"]["eval.jsonl"]
    rows = []
    for k, v in to.items():
        if v and isinstance(v[0], list):
            for c in v:
                rows.append(("train.jsonl", ", ".join(map(str, c)), DESCRIPTIONS[k], k))
        else:
            for ln in v:
                what = data["notes"].get(ln, DESCRIPTIONS[k])
                rows.append(("train.jsonl", str(ln), what, k))
    for k, v in eo.items():
        for e, ts in v.items():
            rows.append(("eval.jsonl", e, f"{DESCRIPTIONS[k]} (train line {', '.join(map(str, ts))})", k))

    table = ["| file | line(s) | category | what |", "|---|---|---|---|"]
    for f, lines, what, k in rows:
        table.append(f"| {f} | {lines} | `{k}` | {what} |")

    oracle_json = render_oracle(data["oracle"])
    n_train, n_eval = len(data["train"]), len(data["eval"])
    return f"""# Sample data: support-ticket triage fine-tuning set

This folder is **generated** by `tools/sample_data/generate.py` (stdlib only, seeded with `random.Random({SEED})`);
do not edit the data files by hand. Regenerate with:

```
python tools/sample_data/generate.py            # writes into sample_data/
python tools/sample_data/generate.py --out DIR  # writes into DIR
```

The output is byte-for-byte deterministic; `tests/test_sample_data.py` checks that.

## Task

Each row is an OpenAI chat fine-tuning record:
a fixed system prompt, one customer-support ticket as the user message, and the triage
result as the assistant message. The assistant content is a single-line JSON object described
by `schema.json` (JSON Schema draft 2020-12):

- `category`: one of {", ".join(f"`{c}`" for c in P.CATEGORIES)}
- `priority`: `low` / `medium` / `high` / `urgent`
- `sentiment`: `positive` / `neutral` / `negative`
- `needs_human`: boolean
- `summary`: 1–200 characters
- `tags`: at most 5 strings

All keys are required and no other keys are allowed.

System prompt (identical on every row):

> {SYSTEM_PROMPT}

Tickets are assembled from many sentence pools per category and sub-issue, with invented
products, shops, names, order numbers, invoice numbers, tracking numbers and error codes.
The generator rejects any ticket that comes too close to an existing one, so apart from the
planted rows below, no two rows (within or across files) have a word-3-gram Jaccard
similarity of 0.5 or more on the normalized user text (NFKC, lowercase, whitespace collapsed,
`\\w+` tokens) or on user+assistant text, and no two rows share a 13-word window.

## Files

| file | lines | content |
|---|---|---|
| `train.jsonl` | {n_train} | training set with planted problems |
| `eval.jsonl` | {n_eval} | held-out set with planted train/eval leaks |
| `schema.json` | – | JSON Schema of the assistant triage object |

## Planted problems

Line numbers are 1-based physical lines. Every planted line appears in exactly one category;
all other rows are clean, English, unique and schema-valid. The eval leaks point at clean
train rows (the train side of a leak is not a problem inside train.jsonl itself).

{chr(10).join(table)}

### Oracle (machine readable)

<!-- planted:begin -->
```json
{oracle_json}
```
<!-- planted:end -->
"""


def write_all(out_dir: str, data: dict) -> None:
    os.makedirs(out_dir, exist_ok=True)

    def w(name: str, text: str) -> None:
        with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    w("train.jsonl", "\n".join(data["train"]) + "\n")
    w("eval.jsonl", "\n".join(data["eval"]) + "\n")
    w("schema.json", json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n")
    w("README.md", render_readme(data))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=SAMPLE_DATA, help="output directory (default: the repository's sample_data/)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--no-verify", action="store_true", help="skip the brute-force verification")
    args = ap.parse_args(argv)
    data = generate()
    if not args.no_verify:
        verify(data, quiet=args.quiet)
    write_all(args.out, data)
    if not args.quiet:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
