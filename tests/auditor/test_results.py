"""Tests for auditor.results.RowSet: excluded rows as one sorted array that reads like a frozenset."""

import numpy as np

from auditor import Check, RowSet
from auditor.results import row_set, union_rows


def test_a_row_set_compares_iterates_and_answers_in_like_a_frozenset():
    rows = RowSet(np.array([7, 3, 3, 12], dtype=np.int32))
    assert rows == {3, 7, 12} and {3, 7, 12} == rows and rows == frozenset({12, 7, 3}) and rows != {3, 7}
    assert list(rows) == [3, 7, 12] and all(type(r) is int for r in rows)
    assert 7 in rows and np.int64(12) in rows and 8 not in rows and "7" not in rows and 13 not in rows
    assert len(rows) == 3 and bool(rows) and not RowSet() and len(RowSet([])) == 0
    assert rows.array.dtype == np.int64 and not rows.array.flags.writeable
    assert hash(rows) == hash(RowSet([12, 3, 7])) and rows | {1} == {1, 3, 7, 12}
    assert repr(RowSet(range(10))) == "RowSet({0, 1, 2, 3, 4, 5, 6, 7, ...})"


def test_a_check_result_holds_excluded_rows_as_a_row_set_and_the_union_is_sorted_and_unique():
    class Marks(Check):
        """Marks rows."""

        id = "marks"
        code = "MRK001"

        def run(self, ctx):
            return self.result()

    check = Marks()
    from_array = check.result(excluded=np.array([5, 1, 5]))
    from_list = check.result(excluded=(r for r in [9, 1]))
    assert isinstance(from_array.excluded, RowSet) and from_array.excluded == {1, 5}
    assert isinstance(from_list.excluded, RowSet) and from_list.excluded == {1, 9}
    assert union_rows([from_array.excluded, from_list.excluded, frozenset({0})]).tolist() == [0, 1, 5, 9]
    assert union_rows([]).tolist() == [] and union_rows([frozenset()]).tolist() == []
    assert union_rows([from_list.excluded]) is from_list.excluded.array
    # what is no row id stays as given, for the engine to name the check
    assert row_set([1.5]) == frozenset({1.5}) and row_set([True]) == frozenset({True})
    assert row_set(np.array([0.5])) == frozenset({0.5}) and row_set([2**70]) == frozenset({2**70})
