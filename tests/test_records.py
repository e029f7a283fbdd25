"""records.py: plain records compare, hash, show, copy and pickle by their fields."""
import pickle
from typing import Optional

import pytest

from postrender.records import Record


class Point(Record):
    __slots__ = ("x", "label")

    def __init__(self, x: int, label: Optional[str] = None) -> None:
        self.x = x
        self.label = label


class Other(Record):
    __slots__ = ("x", "label")

    def __init__(self, x: int, label: Optional[str] = None) -> None:
        self.x = x
        self.label = label


def test_records_of_one_class_with_equal_fields_are_equal_and_hash_alike():
    assert Point(1, "a") == Point(1, "a") and hash(Point(1, "a")) == hash(Point(1, "a"))
    assert Point(1, "a") != Point(1, "b") and Point(1) != Other(1)  # fields and class both count
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_a_record_shows_its_fields():
    assert repr(Point(1, "a")) == "Point(x=1, label='a')"


def test_replace_copies_with_fields_changed_and_refuses_unknown_ones():
    point = Point(1, "a")
    assert point._replace(label="b") == Point(1, "b") and point == Point(1, "a")
    with pytest.raises(TypeError, match="no field 'y'"):
        point._replace(y=2)


def test_a_record_pickles_as_the_two_process_path_sends_it():
    assert pickle.loads(pickle.dumps(Point(1, "a"))) == Point(1, "a")
