"""The final answer of a free-text response, as evaluation harnesses extract it.

Two free-text responses to one prompt rarely say the same thing in the same words, and need not:
a worked solution in other words, a paraphrase, an alternative reply in a conversation tree. They
contradict each other only when they commit to different answers. `final_answer` finds the answer
a response commits to, the way GSM8K, MATH and multiple-choice evaluations read it, or None when it
commits to none (an explanation, a greeting, a story):

1. GSM8K's `#### 42` (the text after the last `####`);
2. LaTeX `\\boxed{42}` (the last one);
3. "The answer is 42" / "Final answer: 42" (the last one, to the end of its sentence);
4. a reply that opens with "Yes," or "No." (its polarity);
5. a reply that is nothing but a value: a number, yes/no, true/false, or a choice letter ("B", "(c)").

Answers are compared after `normalize_answer`: case, surrounding punctuation, currency signs and
thousands separators do not count, and numbers compare by value ("18.00" is "18").
"""

from __future__ import annotations

import re

_HASHES = re.compile(r"####\s*([^\n]+?)\s*$", re.MULTILINE)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_STATED = re.compile(r"\b(?:the\s+(?:final\s+|correct\s+)?answer\s+is|final\s+answer\s*:|answer\s*:)\s*"
                     r"([^\n]+?)(?:(?<!\d)\.(?!\d)|[!?;\n]|$)", re.IGNORECASE)
_POLARITY = re.compile(r"^\W*(yes|no)\s*[,.!;:\u2014-]", re.IGNORECASE)
_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_VALUES = {"yes", "no", "true", "false"}
_CHOICE = re.compile(r"^\(?([a-e])\)?$", re.IGNORECASE)
_SURROUNDING = " \t\n.,;:!?'\"`*"
_UNITS = ("$", "€", "£", "%")


def final_answer(text: str | None) -> str | None:
    """The normalized answer a response commits to (see the module docs), or None."""
    if not text:
        return None
    for pattern in (_HASHES, _BOXED, _STATED):
        found = pattern.findall(text)
        if found:
            answer = normalize_answer(found[-1])
            if answer:
                return answer
    polarity = _POLARITY.match(text)
    if polarity:
        return polarity.group(1).lower()
    whole = normalize_answer(text)
    if whole is not None and (whole in _VALUES or _NUMBER.match(whole) or _CHOICE.match(whole)):
        return whole
    return None


def normalize_answer(answer: str) -> str | None:
    """An answer written one way: lower case, no surrounding punctuation, currency or percent signs,
    no thousands separators, numbers by value; None when nothing is left."""
    value = answer.strip().strip(_SURROUNDING).lower()
    for unit in _UNITS:
        value = value.replace(unit, "")
    value = value.strip(_SURROUNDING)
    if value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip(_SURROUNDING)
    if not value:
        return None
    if _NUMBER.match(value):
        number = float(value.replace(",", ""))
        return str(int(number)) if number.is_integer() else repr(number)
    choice = _CHOICE.match(value)
    if choice:
        return choice.group(1)
    return " ".join(value.split())
