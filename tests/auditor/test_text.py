"""The Python and the polars normalization give the same matching text (checks mix both)."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.context.text import normalize_series, normalize_text

SPACES = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2003\u2028\u2029\u3000 "


def test_normalization_examples():
    assert normalize_text("  Ｈｅｌｌｏ\t\tWORLD\u3000ﬁne \n") == "hello world fine"
    assert normalize_text("a\x1cb") == "a\x1cb"  # a file separator is not whitespace in Unicode
    assert normalize_text(None) == ""


@settings(max_examples=300, deadline=None)
# Characters this Python's Unicode database knows (category Cn excluded): polars and Python may ship
# different Unicode versions, and the case or NFKC of a character only the newer one knows (U+1E030 is
# Unicode 15, U+A7DA Unicode 16) differs between them.
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cn",)) | st.sampled_from(SPACES),
                        max_size=40), max_size=50))
def test_python_and_polars_normalization_agree(texts):
    series = pl.Series("t", [*texts, None], dtype=pl.String)
    assert normalize_series(series).to_list() == [normalize_text(t) for t in [*texts, None]]


def test_counts_read_right():
    from auditor import counted

    assert counted(1, "group") == "1 group"
    assert counted(2551, "group") == "2,551 groups"
    assert counted(0, "copy", "copies") == "0 copies"


def test_user_side_drops_the_system_text_only_when_the_prompt_starts_with_it():
    import polars as pl

    from auditor import user_side

    frame = pl.DataFrame({"system": ["Be brief.", None, "Other.", "Be brief."],
                          "prompt": ["Be brief.\nWhere is my parcel?", "Hi there", "Where?", None]})
    assert frame.select(user_side())["prompt"].to_list() == ["Where is my parcel?", "Hi there", "Where?", None]


def test_a_column_of_mostly_copies_normalizes_each_distinct_text_once_and_gives_the_same_texts():
    texts = ["  Where IS my\u00a0parcel? ", None, "Ｆｕｌｌ width", "where is my parcel?"] * 400 + ["last one"]
    series = pl.Series("prompt", texts)
    normalized = normalize_series(series)
    assert normalized.name == "prompt" and normalized.dtype == pl.String
    assert normalized.to_list() == [normalize_text(t) for t in texts]
    distinct = pl.Series("prompt", [f"text number {i}" for i in range(1500)])
    assert normalize_series(distinct).to_list() == [normalize_text(t) for t in distinct]


PARTS = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cn",))
                                     | st.sampled_from([*SPACES, "\u00a8", "\u00b4", "Σ", "İ", "\u0301"]),
                                     max_size=12))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(PARTS, PARTS, PARTS), min_size=1, max_size=30))
def test_parts_normalized_alone_and_joined_are_the_normalized_joined_text(rows):
    # checks share one normalization of a part between selections ("input" and "input+response"):
    # joining the normalized parts must give exactly the normalized text of the joined parts
    from auditor.context.text import join_normalized, matching_text

    frame = pl.DataFrame({"system": [None] * len(rows), "prompt": [r[0] for r in rows],
                          "response": [r[1] for r in rows], "label": [r[2] for r in rows]},
                         schema={"system": pl.String, "prompt": pl.String, "response": pl.String, "label": pl.String})
    for parts in (["prompt", "response"], ["response", "prompt", "label"], ["label", "response"]):
        expected = [normalize_text("\n".join(row[("prompt", "response", "label").index(p)] or "" for p in parts))
                    for row in rows]
        assert matching_text(frame, parts).to_list() == expected
        alone = [matching_text(frame, [p]) for p in parts]
        assert join_normalized(alone).to_list() == expected


def test_a_part_empty_on_every_row_joins_to_the_other_parts_unchanged(monkeypatch):
    from auditor.context.text import join_normalized

    prompt = pl.Series("x", ["hello world", "", "b c"])
    empty = pl.Series("y", ["", "", ""])
    response = pl.Series("z", ["ok", "yes", ""])
    assert join_normalized([prompt, empty]).to_list() == ["hello world", "", "b c"]
    assert join_normalized([empty, prompt, empty, response]).to_list() == ["hello world ok", "yes", "b c"]
    assert join_normalized([empty, empty]).to_list() == ["", "", ""]
    assert join_normalized([prompt, empty]).name == "text"
    assert join_normalized([prompt, empty]).len() == 3
    # no join is computed when one part is left: the result is that part's own text, not a copy
    monkeypatch.setattr(pl, "concat_str", lambda *a, **k: (_ for _ in ()).throw(AssertionError("joined")))
    assert join_normalized([empty, prompt, empty]).to_list() == ["hello world", "", "b c"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(PARTS, PARTS, st.sampled_from(["\n", " ", "", "x", "\n\n", None])), min_size=1, max_size=30))
def test_the_prompt_made_of_its_normalized_sides_is_the_normalized_prompt(rows):
    # the prompt is normalized once per audit as its sides (system, user): the text made of them must
    # be the prompt's own normalized text, whether the prompt opens with its system text and a newline,
    # with it and something else, or not at all
    from auditor import user_side
    from auditor.context.text import matching_text, prompt_of_sides

    systems, prompts = [], []
    for system, user, seam in rows:
        systems.append(system)
        prompts.append(user if seam is None or system is None else system + seam + (user or ""))
    frame = pl.DataFrame({"system": systems, "prompt": prompts}, schema={"system": pl.String, "prompt": pl.String})
    user = normalize_series(frame.select(user_side())["prompt"])
    made = prompt_of_sides(frame, matching_text(frame, ["system"]), user)
    assert made.to_list() == matching_text(frame, ["prompt"]).to_list()
    assert made.to_list() == [normalize_text(p) for p in prompts]


def test_prompts_without_system_texts_are_their_user_sides_and_odd_seams_are_normalized_whole():
    from auditor.context.text import prompt_of_sides

    frame = pl.DataFrame({"system": [None, "Be brief."], "prompt": ["Hi  there", "Where?"]})
    user = pl.Series("u", ["hi there", "where?"])
    made = prompt_of_sides(frame, pl.Series(["", "be brief."]), user)
    assert made.to_list() == ["hi there", "where?"] and made.name == "text"
    joined = prompt_of_sides(pl.DataFrame({"system": ["Be brief.", "S"], "prompt": ["Be brief.\nWhere?", "Sx"]}),
                             pl.Series(["be brief.", "s"]), pl.Series(["where?", "sx"]))
    assert joined.to_list() == ["be brief. where?", "sx"]
