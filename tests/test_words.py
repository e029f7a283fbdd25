"""postrender.words: whole words found with bytes.find, as a regex's `\\b(?:...)\\b` finds them."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from postrender.words import FirstMatch, find_word, holds_word, word_searches

WORDS = (b"ConfigMap", b"Job", b"Pod", b"CronJob")
# words, and what may stand beside them: word characters (ASCII and not), separators, line breaks
PIECES = [b"ConfigMap", b"Job", b"Pod", b"CronJob", b"s", b"X", b"_", b"9", b"-", b" ", b"\n", b":", b'"', b"\xc3\xa9",
          b"Jo", b"Config"]


def regex_first(raw: bytes, start: int) -> int:
    found = re.compile(rb"\b(?:%s)\b" % b"|".join(WORDS)).search(raw, start)
    return len(raw) if found is None else found.start()


def test_a_word_counts_only_where_no_word_character_touches_it():
    assert find_word(b"kind: Job\n", b"Job") == 6
    assert find_word(b"Job", b"Job") == 0
    assert find_word(b"Jobs Job_ xJob", b"Job") == -1
    assert find_word(b"Jobs Job", b"Job") == 5  # the whole one after a partial one
    assert find_word(b'"Job"\xc3\xa9Job', b"Job", 2) == 7  # a non-ASCII byte is no word character (ASCII \b)
    assert holds_word(b"kind: CronJob", WORDS) and not holds_word(b"kind: Jobs", WORDS)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map(b"".join), st.lists(st.integers(0, 80), max_size=6))
def test_the_first_of_the_word_searches_is_what_the_regex_finds_from_any_offsets(raw, starts):
    search = FirstMatch(len(raw), word_searches(raw, WORDS))
    for start in sorted(min(s, len(raw)) for s in starts) + [min(s, len(raw)) for s in starts]:  # on, then back
        assert search.first(start) == regex_first(raw, start)
    assert holds_word(raw, WORDS) == (regex_first(raw, 0) < len(raw))
