"""Line breaks other than LF: the one list of them.

YAML reads a lone CR, NEL (U+0085), U+2028 and U+2029 as line breaks, besides LF and
CRLF. The stream counts its lines on LF only (its documents start after any of them, as
libyaml's do): libyaml's marks then count other lines than the stream's, a document that
seems blank may hold content, and a scalar holding one cannot stay on one line
unescaped. Every place that must know uses these names.
"""
import re

# Every line break YAML reads but LF; "\r" is also the first half of CRLF.
OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
OTHER_BREAKS_UTF8 = tuple(b.encode("utf-8") for b in OTHER_BREAKS)
# In UTF-8 bytes, the breaks other than LF and CRLF (a CR only where no LF follows): as OTHER_BREAKS,
# spelled as a pattern the reader can join into its own (a character class where that is faster).
ODD_BREAK_UTF8 = re.compile(rb"\r(?!\n)|\xc2\x85|\xe2\x80[\xa8\xa9]")
