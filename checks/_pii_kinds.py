"""The kinds of personal data and secrets the `pii` check finds: for each, a cheap prefilter (a regular
expression polars runs over whole columns) and a finder that validates candidates with a library made
for the job (`phonenumbers`, `python-stdnum`'s checksums, `ipaddress`, `detect-secrets`' plugins), and a
mask that shows enough to recognise the value and never the value itself."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Span = tuple[int, int, str]  # start, end (characters), the value


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    secret: bool  # a credential (else personal data)
    prefilter: str  # a polars (Rust) regex: rows that cannot hold one are never read in Python
    find: Callable[[str, Context], Iterator[Span]]
    mask: Callable[[str], str]
    placeholder: str = ""  # what `auditor clean --redact` writes instead

    def value(self, found: str) -> str:
        """The text a finder's value stands for in the string (a credential's value, without its type)."""
        return found.partition("\x00")[2] if self.secret else found


@dataclass(frozen=True)
class Context:
    region: str  # phone numbers without a country code are read as this region's
    allowed: frozenset[str]  # values and e-mail domains that are not findings (lower case)


# RFC 2606 / 6761 names: documentation and test domains, never a person's address
RESERVED_DOMAINS = ("example.com", "example.org", "example.net",
                    # the domains synthetic data writes where an address goes (john.doe@email.com)
                    "email.com", "domain.com", "yourdomain.com", "company.com", "yourcompany.com", "test.com",
                    "sample.com", "somewhere.com")
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".local")


def _keep_last(value: str, keep: int) -> str:
    """Every letter and digit but the last `keep` as *, separators kept (`**** **** **** 4242`)."""
    total = sum(c.isalnum() for c in value)
    out, seen = [], 0
    for c in value:
        if c.isalnum():
            seen += 1
            out.append(c if seen > total - keep else "*")
        else:
            out.append(c)
    return "".join(out)


# -- e-mail -------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+:/-])[A-Za-z0-9][A-Za-z0-9._%+-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24})(?![\w-])")


def _emails(text: str, context: Context) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        domain = match.group(1).lower()
        if (domain in RESERVED_DOMAINS or domain.endswith(RESERVED_SUFFIXES) or domain in context.allowed
                or match.group(0).lower() in context.allowed):
            continue
        yield match.start(), match.end(), match.group(0)


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[0]}***@{domain}"


# -- phone numbers ------------------------------------------------------------------------------------
def _phones(text: str, context: Context) -> Iterator[Span]:
    import phonenumbers

    for match in phonenumbers.PhoneNumberMatcher(text, context.region, leniency=phonenumbers.Leniency.VALID):
        if " - " in match.raw_string or _ARITHMETIC.search(text[max(0, match.start - 2):match.start]) \
                or _ARITHMETIC.match(text[match.end:match.end + 2]):
            continue  # 30000 - 11520 = 18480: arithmetic, not a number to call
        digits = re.sub(r"\D", "", match.raw_string)
        if digits == match.raw_string.lstrip("+"):
            continue  # a bare run of digits
        national = str(match.number.national_number)
        if len(digits) < 8 or digits in context.allowed or national in context.allowed:
            continue
        if match.number.country_code == 1 and national[3:6] == "555" and national[6:8] == "01":
            continue  # 555-0100..0199: reserved for fiction
        yield match.start, match.end, match.raw_string


_ARITHMETIC = re.compile(r"\s*[=*/+x×÷<>]")


# -- payment cards ------------------------------------------------------------------------------------
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# issuer prefixes (IIN ranges) of the major networks, and the lengths they issue
_ISSUERS = [(r"4", (13, 16, 19)), (r"5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720", (16,)),
            (r"3[47]", (15,)), (r"6011|65|64[4-9]", (16, 19)), (r"35(?:2[89]|[3-8]\d)", (16, 19)),
            (r"3(?:0[0-5]|[68])", (14, 16, 19))]


def _cards(text: str, context: Context) -> Iterator[Span]:
    from stdnum import luhn

    for match in _CARD.finditer(text):
        value = match.group(0)
        digits = re.sub(r"\D", "", value)
        if len({c for c in value if not c.isdigit()}) > 1 or digits in context.allowed:
            continue  # one kind of separator at most, as cards are written
        if any(re.match(prefix, digits) and len(digits) in lengths for prefix, lengths in _ISSUERS) \
                and luhn.is_valid(digits):
            yield match.start(), match.end(), value


# -- IBAN ---------------------------------------------------------------------------------------------
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def _ibans(text: str, context: Context) -> Iterator[Span]:
    from stdnum import iban

    for match in _IBAN.finditer(text):
        compact = match.group(0).replace(" ", "")
        if compact.lower() not in context.allowed and iban.is_valid(compact):
            yield match.start(), match.end(), match.group(0)


def _mask_iban(value: str) -> str:
    return value[:2] + _keep_last(value[2:], 4)


# -- IP addresses -------------------------------------------------------------------------------------
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION_BEFORE = re.compile(r"(?:\bv|\bversion\s*|\bver\.?\s*|\bbuild\s*|\brelease\s*|\bv\.)$", re.I)


def _ips(text: str, context: Context) -> Iterator[Span]:
    for pattern in (_IPV4, _IPV6):
        for match in pattern.finditer(text):
            value = match.group(0)
            if pattern is _IPV6 and value.count(":") < 7 and "::" not in value:
                continue  # a time (12:30:45) or a ratio, not an address
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                continue
            # private, loopback and documentation ranges identify no one; a version number is no address
            if not address.is_global or value.lower() in context.allowed:
                continue
            if _VERSION_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
                continue
            yield match.start(), match.end(), value


def _mask_ip(value: str) -> str:
    if "." in value:
        a, b, _, _ = value.split(".")
        return f"{a}.{b}.***.***"
    return value.split(":")[0] + ":****:…"


# -- US social security numbers -----------------------------------------------------------------------
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")


def _ssns(text: str, context: Context) -> Iterator[Span]:
    from stdnum.us import ssn

    for match in _SSN.finditer(text):
        if match.group(0) not in context.allowed and ssn.is_valid(match.group(0)):
            yield match.start(), match.end(), match.group(0)


# -- credentials --------------------------------------------------------------------------------------
_SECRET_PLUGINS = ("AWSKeyDetector", "GitHubTokenDetector", "GitLabTokenDetector", "SlackDetector",
                   "StripeDetector", "PrivateKeyDetector", "JwtTokenDetector", "BasicAuthDetector",
                   "KeywordDetector")


_configured = False


def _configure_detect_secrets() -> None:
    """detect-secrets' process-wide settings set once to our plugins (its default filters kept).
    Its `transient_settings`, entered per text, costs over a millisecond (every plugin and filter
    cache rebuilt twice): a chat set whose words include "password" spent minutes there."""
    global _configured
    if not _configured:
        from detect_secrets.settings import cache_bust, configure_settings_from_baseline

        cache_bust()
        configure_settings_from_baseline({"plugins_used": [{"name": name} for name in _SECRET_PLUGINS]})
        _configured = True


def _secrets(text: str, context: Context) -> Iterator[Span]:
    from detect_secrets.core.scan import scan_line

    for block in _KEY_BLOCK.finditer(text):  # the whole block, not only its BEGIN line
        yield block.start(), block.end(), f"Private Key\x00{block.group(0)}"
    _configure_detect_secrets()
    offset = 0
    for line in text.split("\n"):
        for secret in scan_line(line):
            value = secret.secret_value or ""
            if secret.type == "Private Key":
                continue  # found above, block and all
            if not value or value.lower() in context.allowed or _placeholder(value):
                continue
            at = line.find(value)
            if secret.type == "Secret Keyword" and _JSON_PASSWORD.search(line[:max(at, 0)]):
                continue  # a password field of JSON data (a tool's reply, a form), not a pasted credential
            start = offset + max(at, 0)
            yield start, start + len(value), f"{secret.type}\x00{value}"
        offset += len(line) + 1


_KEY_BLOCK = re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----(?:.*?-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|.*\Z)",
                        re.S)
_JSON_PASSWORD = re.compile(r'"(?:password|passwd|pwd|pass|new_password)"\s*:\s*"?$', re.I)
_PLACEHOLDER = re.compile(r"^(?:<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\$\{?\w+\}?|x+|\*+|\.+|redacted|changeme|"
                          r"your[_-]?\w*|example\w*|dummy\w*|placeholder|secret|password|\w*_here)$", re.I)


def _placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip("'\"")))


def _mask_secret(value: str) -> str:
    kind, _, secret = value.partition("\x00")
    shown = secret[:4] if kind not in ("Secret Keyword", "Basic Auth Credentials", "Private Key") else ""
    return f"{kind}: {shown}…"


# what detect-secrets' KeywordDetector can match at all: a denylisted name (password, secret, api_key,
# ...) then, after its suffix and a closing quote or bracket, an assignment or a call (`:`, `=`, `:=`,
# `=>`, `!=`, `(`), or a quoted value compared to such a name (`"x" == password`), or a quoted value
# ending in `;` within 50 characters; prose that only names a password ("reset my password") is never
# read in Python
_KEYWORD_NAMES = (r"(?:api|auth|service|account|db|database|priv|private|client)_?key|(?:db|database|key)_?pass|"
                  r"password|passwd|pwd|secret|contrase(?:ñ|n)a")
_KEYWORD_PREFILTER = (rf"(?i:(?:{_KEYWORD_NAMES})\w*(?:\[[0-9]*\])?[\]'\"]{{0,2}}\s*(?:[:=!(]|\.assign)|"
                      rf"[!=]{{2,3}}\s*\w*(?:{_KEYWORD_NAMES})|(?:{_KEYWORD_NAMES})\S{{0,50}}\s*['\"`][^'\"`]*['\"`];)")

KINDS = {
    "email": Kind("email", "E-mail address", False, r"@[A-Za-z0-9-]+\.", _emails, _mask_email, "<EMAIL>"),
    # written as people write phone numbers: a + country code, an (area code), or groups with separators
    # (a bare run of digits is an order number as often as a phone number)
    # a country code's + after a word character or ")" is arithmetic (2+3, (4+5)): read only where a
    # separator follows its digits, as every number the finder keeps has one
    "phone": Kind("phone", "Phone number", False,
                  r"(?:^|[^\w)])\+\d+[ .\-(/]\d|\(\d{2,4}\)\s?\d|\d{2,4}[ .-]\d{3,4}[ .-]\d{3,5}", _phones,
                  lambda v: _keep_last(v, 2), "<PHONE>"),
    "card": Kind("card", "Payment card number", False, r"\d{4}[ -]?\d{4}[ -]?\d{2}", _cards, lambda v: _keep_last(v, 4),
                 "<CARD>"),
    "iban": Kind("iban", "IBAN", False, r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}", _ibans, _mask_iban, "<IBAN>"),
    "ip": Kind("ip", "IP address", False, r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
               _ips, _mask_ip, "<IP>"),
    "ssn": Kind("ssn", "US social security number", False, r"\d{3}-\d{2}-\d{4}", _ssns, lambda v: _keep_last(v, 4),
                "<SSN>"),
    "secret": Kind("secret", "Credential", True,
                   r"AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|[sr]k_(?:live|test)_|-----BEGIN|"
                   r"eyJ[A-Za-z0-9_-]{8,}\.|://[^/\s:@]+:[^@\s/]+@|" + _KEYWORD_PREFILTER,
                   _secrets, _mask_secret, "<SECRET>"),
}
