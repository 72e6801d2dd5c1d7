"""auditor.answers: the final answer a free-text response commits to."""

import pytest

from auditor.answers import final_answer, normalize_answer


@pytest.mark.parametrize("text, expected", [
    ("She has 50 - 18 - 25 = <<50-18-25=7>>7 dollars left.\n#### 7", "7"),
    ("Natalia sold 48/2 = 24 clips in May.\n#### 1,200", "1200"),
    ("So the total is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
    ("First \\boxed{3}, then corrected: \\boxed{4}.", "4"),
    ("Adding them up, the answer is 42.", "42"),
    ("The final answer is $18.00.", "18"),
    ("Answer: (B)", "b"),
    ("The correct answer is Canberra. Sydney is larger.", "canberra"),
    ("Yes, the store opens at 10.", "yes"),
    ("No. It is closed on Sundays.", "no"),
    ("True", "true"),
    ("  3.50 ", "3.5"),
    ("c)", "c"),
    ("75%", "75"),
])
def test_answers_are_read_the_way_evaluations_read_them(text, expected):
    assert final_answer(text) == expected


@pytest.mark.parametrize("text", [
    "You're welcome!",
    "No problem, glad I could help.",
    "I am Vicuna, a language model trained by researchers from LMSYS.",
    "To reset your password open the settings page.",
    "Yesterday it was raining.",
    "",
    None,
    "####   ",
])
def test_replies_that_commit_to_no_answer_have_none(text):
    assert final_answer(text) is None


def test_numbers_compare_by_value():
    assert normalize_answer("1,000") == normalize_answer("1000.0") == "1000"
    assert normalize_answer("$ 7 ") == "7"
    assert normalize_answer("...") is None
