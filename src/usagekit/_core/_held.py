"""How the repeat check (:mod:`usagekit._core._unique`) keeps a bucket's records: plain tuples
of bytes and ints (:data:`_Held`), and the order-free digest of an old bucket."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from itertools import count, repeat

__all__: list[str] = []  # private to usagekit._core._unique

_Name = tuple[int, int]
"""A record's name: the hashes of its id's two parts (its group's prefix, its measure's suffix)."""

_Run = tuple[tuple[int, ...], int, "tuple[int, ...] | None"]
"""The measures of every group of a regular table, in row order: ``(their suffixes' hashes,
the hash of those hashes sorted, the positions that sort them or None when they are)``, for
digests made a group at a time. A plain tuple of ints, as :data:`_Held` is."""

_Held = tuple[bytes, bytes, "_Run | None", "bytes | None", "bytes | None"]
"""One bucket's records as the stream keeps them: ``(prefixes, figures, run, groups,
suffixes)``, each column the bytes of an int64 array (``groups`` of uint32), in one of three
forms: a regular page's (its groups' prefix hashes, each record's figure and one :data:`_Run`
of measures for every group: record ``r`` is group ``r // width``'s measure ``r % width``),
the general one (its groups' prefix hashes, and each record's figure, group number and suffix
hash) or a plain page's (each record's prefix hash, figure and suffix hash; ``groups`` None).
Plain tuples of bytes and ints, so that the garbage
collector stops tracking them at its first look: a stream keeps thousands at once and
replaces one a bucket, and tracked ones would each count toward the next full collection."""


def _run(suffixes: tuple[int, ...]) -> _Run:
    """The :data:`_Run` of these suffix hashes.

    Args:
        suffixes: The measures' suffix hashes, in row order.

    Returns:
        The run.
    """
    order = sorted(range(len(suffixes)), key=suffixes.__getitem__)
    ordered = hash(tuple(suffixes[position] for position in order))
    return suffixes, ordered, None if order == list(range(len(suffixes))) else tuple(order)


def _held_of(kept: dict[_Name, int]) -> _Held:
    """The :data:`_Held` of a name -> figure mapping, each group's prefix held once.

    Args:
        kept: Each record's name and figure.

    Returns:
        The records, in the general form (each record's group number and suffix hash).
    """
    numbers: dict[int, int] = {}
    groups = array("I", [numbers.setdefault(prefix, len(numbers)) for prefix, _ in kept])
    suffixes = array("q", [suffix for _, suffix in kept])
    figures = array("q", kept.values())
    prefixes = array("q", numbers)
    return prefixes.tobytes(), figures.tobytes(), None, groups.tobytes(), suffixes.tobytes()


def _held_size(held: _Held) -> int:
    """How many records a :data:`_Held` holds.

    Args:
        held: The records.

    Returns:
        Their number.
    """
    return len(held[1]) // 8


def _held_items(held: _Held) -> Iterator[tuple[_Name, int]]:
    """Each record's name and figure.

    Args:
        held: The records.

    Yields:
        ``(name, figure)``, in the order they were kept.
    """
    prefixes, figures = array("q", held[0]), array("q", held[1])
    run = held[2]
    if run is not None:
        suffixes = run[0]
        width = len(suffixes)
        for number, prefix in enumerate(prefixes):
            group = figures[number * width : (number + 1) * width]
            yield from zip(((prefix, suffix) for suffix in suffixes), group, strict=True)
        return
    assert held[4] is not None
    names = array("q", held[4])
    if held[3] is None:  # a plain page's: each record's own prefix hash
        yield from zip(zip(prefixes, names, strict=True), figures, strict=True)
        return
    groups = array("I", held[3])
    for group_number, suffix, figure in zip(groups, names, figures, strict=True):
        yield (prefixes[group_number], suffix), figure


def _held_digest(held: _Held) -> int:
    """:func:`_digest` of a :data:`_Held`'s records, a group at a time for a regular page.

    Args:
        held: The records.

    Returns:
        Their digest.
    """
    run = held[2]
    if run is None:
        return _digest(dict(_held_items(held)))
    suffixes, ordered, order = run
    width = len(suffixes)
    figures = held[1]
    if order is not None:  # each group's figures in the order of their suffixes: column by column
        values = array("q", figures)
        arranged = array("q", bytes(len(figures)))
        for position, source in enumerate(order):
            arranged[position::width] = values[source::width]
        figures = arranged.tobytes()
    # each group's figures as the bytes of array("q", them), sliced and hashed in C (a stream
    # digests every bucket it keeps past its window)
    size = 8 * width
    chunks = map(figures.__getitem__, map(slice, range(0, len(figures), size), count(size, size)))
    prefixes = array("q", held[0])
    return sum(map(hash, zip(prefixes, repeat(ordered, len(prefixes)), chunks, strict=True))) & _M64


_M64 = 0xFFFFFFFFFFFFFFFF


def _digest(kept: dict[_Name, int]) -> int:
    """One 64-bit digest of a bucket's records, whatever their order.

    The sum over its groups of the hash of ``(prefix, hash(its suffixes in order), the bytes of
    their figures in that order as int64)``: bytes, not a tuple of ints, since ``hash(-1) ==
    hash(-2)``.

    Args:
        kept: Each record's name and figure.

    Returns:
        The digest (64 bits).
    """
    by_group: dict[int, list[tuple[int, int]]] = {}
    for (prefix, suffix), figure in kept.items():
        by_group.setdefault(prefix, []).append((suffix, figure))
    total = 0
    for prefix, members in by_group.items():
        members.sort()
        suffixes = hash(tuple(suffix for suffix, _ in members))
        figures = array("q", [figure for _, figure in members]).tobytes()
        total += hash((prefix, suffixes, figures))
    return total & _M64
