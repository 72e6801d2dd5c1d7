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
