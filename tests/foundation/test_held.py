"""The digest of an old bucket does not depend on the form its records were held in."""

from __future__ import annotations

from array import array

from hypothesis import given
from hypothesis import strategies as st

from usagekit._core._held import _digest, _held_digest, _held_items, _held_of, _run

_hashes = st.integers(-(2**63), 2**63 - 1)


@st.composite
def _regular(draw: st.DrawFn) -> tuple[bytes, bytes, tuple[int, ...]]:
    """A regular bucket: distinct group prefixes, one run of distinct suffixes, any figures."""
    suffixes = draw(st.lists(_hashes, min_size=1, max_size=8, unique=True))
    prefixes = draw(st.lists(_hashes, min_size=1, max_size=12, unique=True))
    figures = draw(
        st.lists(
            _hashes, min_size=len(prefixes) * len(suffixes), max_size=len(prefixes) * len(suffixes)
        )
    )
    return array("q", prefixes).tobytes(), array("q", figures).tobytes(), tuple(suffixes)


@given(_regular())
def test_a_regular_bucket_digests_as_its_records_do(
    bucket: tuple[bytes, bytes, tuple[int, ...]],
) -> None:
    """Held a group at a time, record by record (the general form) or as a plain mapping: one
    digest, so that a bucket kept in one form is recognized when it comes again in another."""
    prefixes, figures, suffixes = bucket
    regular = (prefixes, figures, _run(suffixes), None, None)
    kept = dict(_held_items(regular))
    assert len(kept) == len(figures) // 8
    names = list(kept)
    plain = (  # a plain page's form: each record's own prefix hash, figure and suffix hash
        array("q", [prefix for prefix, _ in names]).tobytes(),
        array("q", kept.values()).tobytes(),
        None,
        None,
        array("q", [suffix for _, suffix in names]).tobytes(),
    )
    assert dict(_held_items(plain)) == kept
    assert _held_digest(regular) == _digest(kept) == _held_digest(_held_of(kept))
    assert _held_digest(plain) == _digest(kept)
    if len(kept) > 1:  # one figure more or less changes it
        changed = dict(kept)
        name = next(iter(changed))
        changed[name] += 1 if changed[name] < 2**63 - 1 else -1
        assert _held_digest(_held_of(changed)) != _held_digest(regular)
