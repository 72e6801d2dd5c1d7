from auditor.store import open_cache
from auditor.store.memo import MAGIC, TextMemo, text_key
from auditor.testing import make_context


def test_answers_persist_and_a_damaged_file_is_ignored(tmp_path):
    path = tmp_path / "memo" / "x.memo"
    memo = TextMemo(path)
    memo.put([(text_key("Hallo Welt"), ["de", 0.99]), (text_key("hello"), None)])
    again = TextMemo(path)
    assert again.get([text_key("Hallo Welt"), text_key("unknown")]) == [["de", 0.99], None]
    blob = path.read_bytes()
    path.write_bytes(blob[:-3] + b"xyz")  # payload changed, checksum kept
    assert len(TextMemo(path)) == 0
    path.write_bytes(MAGIC)  # truncated
    assert len(TextMemo(path)) == 0


def test_context_memo_lives_in_the_cache_and_namespaces_are_separate(tmp_path):
    cache = open_cache(tmp_path / "cache")
    ctx = make_context([{"prompt": "p", "completion": "c"}], directory=tmp_path)
    ctx._cache = cache
    ctx.memo("language|seed=1").put([(1, "en")])
    fresh = make_context([{"prompt": "p", "completion": "c"}], directory=tmp_path)
    fresh._cache = open_cache(tmp_path / "cache")
    assert fresh.memo("language|seed=1").get([1]) == ["en"]
    assert fresh.memo("language|seed=2").get([1]) == [None]


def test_without_a_cache_the_memo_lasts_one_audit(tmp_path):
    ctx = make_context([{"prompt": "p", "completion": "c"}], directory=tmp_path)
    ctx.memo("n").put([(7, 1)])
    assert ctx.memo("n").get([7]) == [1]
    assert not any(tmp_path.rglob("*.memo"))


def frame_memo_schema():
    import polars as pl

    return {"lang": pl.String, "prob": pl.Float64}


def test_frame_memo_looks_up_in_key_order_and_persists(tmp_path):
    import polars as pl

    from auditor.store.memo import FrameMemo

    path = tmp_path / "memo" / "x.fmemo"
    memo = FrameMemo(path, frame_memo_schema())
    keys = FrameMemo.keys(pl.Series(["Hallo Welt", "hello", "bonjour"]))
    memo.put(pl.DataFrame({"key": keys[:2], "lang": ["de", "en"], "prob": [0.99, 0.5]}))
    memo.put(pl.DataFrame({"key": keys[1:2], "lang": ["en"], "prob": [0.75]}))  # a newer answer replaces
    again = FrameMemo(path, frame_memo_schema())
    assert len(again) == 2
    found = again.lookup(keys[::-1])  # bonjour, hello, Hallo Welt
    assert found["key"].to_list() == keys[::-1].to_list()
    assert found["lang"].to_list() == [None, "en", "de"] and found["prob"].to_list() == [None, 0.75, 0.99]


def test_frame_memo_ignores_a_damaged_or_foreign_file(tmp_path):
    import polars as pl

    from auditor.store.memo import FrameMemo

    path = tmp_path / "x.fmemo"
    keys = FrameMemo.keys(pl.Series(["a"]))
    FrameMemo(path, frame_memo_schema()).put(pl.DataFrame({"key": keys, "lang": ["de"], "prob": [0.9]}))
    assert len(FrameMemo(path, {"lang": pl.String})) == 0  # other columns: another memo's file
    blob = path.read_bytes()
    path.write_bytes(blob[:-3] + b"xyz")  # payload changed, checksum kept
    assert len(FrameMemo(path, frame_memo_schema())) == 0
    path.write_bytes(MAGIC + blob[len(MAGIC):])  # a JSON memo's magic
    assert len(FrameMemo(path, frame_memo_schema())) == 0


def test_frame_memo_keeps_the_newest_answers(tmp_path, monkeypatch):
    import polars as pl

    from auditor.store import memo as memo_module

    monkeypatch.setattr(memo_module, "MAX_ENTRIES", 3)
    memo = memo_module.FrameMemo(tmp_path / "x.fmemo", frame_memo_schema())
    for n in range(5):
        memo.put(pl.DataFrame({"key": pl.Series([n], dtype=pl.UInt64), "lang": [str(n)], "prob": [0.1]}))
    assert memo.lookup(pl.Series([0, 1, 2, 3, 4], dtype=pl.UInt64))["lang"].to_list() == [None, None, "2", "3", "4"]
