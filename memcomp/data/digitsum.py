"""The sum-of-three-digits task (Figure 2) and its one-shot rare-symbol variant (Table 1).

A sample stacks three 28x28 images as channels; its target is the sum of their labels.

**Training law.** Each of the 3 slots of a training sample holds digit j with probability
P(j) proportional to (j+1)^-exponent (Zipf; exponent 2 as in the paper: 0 most common, 9
rarest). The slots are drawn as: ``m`` nine-slots, placed uniformly at random among the
3 n slots, and every other slot drawn i.i.d. from the law restricted to 0..8. With
``nines_in_train=None``, m ~ Binomial(3 n, P(9)), which makes the slots exactly i.i.d. Zipf.
With ``nines_in_train=m`` the training set holds *exactly* m nines (``train_digit_counts[9]
== m``), each a *different* MNIST 9 image, so "number of 9s in training" is both the count
of 9 occurrences and of distinct 9 images admitted. For a fixed seed the sets grow nested
with m (same non-9 slots, same test sets; more slots turned into 9s).

**Images.** Training images come from the MNIST training pool, test images from the MNIST
test pool, so no test image (in particular no test 9) is ever seen in training. Within a
class, images are used in a random order without repetition until the class runs out, then
reshuffled.

**Test sets.** ``test_in`` follows the training law (i.i.d. Zipf). ``test_ood`` (our choice
where the paper is silent): each slot uniform over {0, 1, 2, 3, 4, 9}, conditioned on at
least one 9 per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from memcomp.checks import check_choice, check_float, check_int, check_seed

OOD_OTHER_DIGITS = (0, 1, 2, 3, 4)
_STREAMS = ("train_digits", "train_nines", "train_images", "test_in", "test_ood", "rare", "pool")


def zipf_probabilities(exponent: float = 2.0, classes: int = 10) -> np.ndarray:
    """P(j) proportional to (j + 1)^-exponent for j = 0..classes-1 (float64, sums to 1)."""
    exponent = check_float("exponent", exponent, low=0.0, high=20.0)
    classes = check_int("classes", classes, low=1, high=10_000)
    weights = np.arange(1, classes + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


@dataclass(frozen=True, eq=False)
class DigitSumSplit:
    """Samples of the digit-sum task.

    ``images`` uint8 (N, 3, H, W); ``digits`` int64 (N, 3), the label of each slot (for a rare
    symbol, its label 0-9); ``target`` float32 (N,), the sum of ``digits``. ``image_ids``
    int64 (N, 3): the row of each slot's image in its pool (MNIST train pool for training,
    MNIST test pool for test splits, the symbol array where ``rare`` is True); ``rare`` bool
    (N, 3): slot holds a rare symbol.
    """

    images: np.ndarray
    digits: np.ndarray
    target: np.ndarray
    image_ids: np.ndarray | None = None
    rare: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise ValueError(f"images must be uint8 (N, 3, H, W); got {self.images.dtype} {self.images.shape}")
        if self.digits.dtype != np.int64 or self.digits.shape != (n, 3):
            raise ValueError(f"digits must be int64 ({n}, 3); got {self.digits.dtype} {self.digits.shape}")
        if self.target.dtype != np.float32 or self.target.shape != (n,):
            raise ValueError(f"target must be float32 ({n},); got {self.target.dtype} {self.target.shape}")
        ids = np.full((n, 3), -1, np.int64) if self.image_ids is None else self.image_ids
        rare = np.zeros((n, 3), bool) if self.rare is None else self.rare
        if ids.shape != (n, 3) or rare.shape != (n, 3):
            raise ValueError(f"image_ids and rare must have shape ({n}, 3)")
        object.__setattr__(self, "image_ids", ids)
        object.__setattr__(self, "rare", rare)

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, rows: Sequence[int] | np.ndarray) -> "DigitSumSplit":
        """The split restricted to ``rows`` (indices or a boolean mask), e.g. to leave rows out."""
        rows = np.asarray(rows)
        return DigitSumSplit(
            self.images[rows], self.digits[rows], self.target[rows], self.image_ids[rows], self.rare[rows]
        )

    def digit_draws(self) -> np.ndarray:
        """How many slots hold each digit 0-9 (rare-symbol slots not counted), int64 (10,)."""
        return np.bincount(self.digits[~self.rare], minlength=10).astype(np.int64)

    def tensors(self, device: Any = None):
        """``(images, target)`` as torch float32: images scaled to [0, 1], shape (N, 3, H, W)."""
        import torch

        images = torch.from_numpy(self.images).to(device=device, dtype=torch.float32).div_(255.0)
        return images, torch.from_numpy(self.target.copy()).to(device=device)


@dataclass(frozen=True, eq=False)
class DigitSumTask:
    """Training set, in-distribution test set and 9-heavy OOD test set, plus how they were made.

    ``nines_in_train``: number of 9 slots in training (exact); ``distinct_nines_in_train``:
    number of different 9 images among them (equal unless the law alone asked for more 9s than
    the pool holds); ``train_digit_counts``: occurrences of each digit 0-9 in training.
    """

    train: DigitSumSplit
    test_in: DigitSumSplit
    test_ood: DigitSumSplit
    zipf_exponent: float
    nines_in_train: int
    distinct_nines_in_train: int
    train_digit_counts: np.ndarray
    seed: int
    source: str


@dataclass(frozen=True, eq=False)
class RareSymbolTask:
    """Digit-sum training set with each rare symbol image in exactly one row (Table 1).

    ``train``: ordinary digit-sum rows plus ``len(rare_rows)`` rows that each hold one rare
    symbol (slot ``rare_slots``, label ``rare_labels``) beside two ordinary digits.
    ``test``: every row holds two different rare symbols, each in the slot where it was seen in
    training, and one ordinary digit (from the MNIST test pool, training law); no two symbols
    ever share a training row, so every test pair is a combination never seen in training.
    ``test_moved``: the same rows with the slots shifted, so each symbol sits where it was never
    seen. ``test_in``: ordinary in-distribution digit-sum rows.
    """

    train: DigitSumSplit
    test: DigitSumSplit
    test_moved: DigitSumSplit
    test_in: DigitSumSplit
    symbol_images: np.ndarray
    symbol_labels: np.ndarray
    symbol_names: tuple[str, ...]
    rare_rows: np.ndarray
    rare_labels: np.ndarray
    rare_slots: np.ndarray
    zipf_exponent: float
    train_digit_counts: np.ndarray
    seed: int
    symbols: str
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators per purpose, so changing one setting leaves the others' draws alone."""
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children)}


def _load_pools(source: Any) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], str]:
    if isinstance(source, str):
        check_choice("source", source, ("bundled", "full"))
        from memcomp.data.mnist import load_mnist

        return load_mnist(source), source
    if isinstance(source, (tuple, list)) and len(source) == 4:
        tri, trl, tei, tel = (np.asarray(a) for a in source)
        for name, img, lab in (("train", tri, trl), ("test", tei, tel)):
            if img.dtype != np.uint8 or img.ndim != 3 or lab.shape != (len(img),):
                raise ValueError(f"source {name} images must be uint8 (N, H, W) with labels (N,)")
            if not np.isin(np.arange(10), lab).all():
                raise ValueError(f"source {name} labels must include every digit 0-9")
        return (tri, trl.astype(np.int64), tei, tel.astype(np.int64)), "custom"
    raise ValueError(
        "source must be 'bundled', 'full' or a tuple (train_images, train_labels, test_images, "
        f"test_labels); got {type(source).__name__}"
    )


def _assign_images(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pool row for each slot of ``digits``: per class, a random order without repetition,
    reshuffled whenever the class runs out. Classes are served in order 0..9."""
    flat = digits.ravel()
    ids = np.empty(flat.shape, np.int64)
    for c in range(10):
        slots = np.flatnonzero(flat == c)
        if slots.size == 0:
            continue
        pool = np.flatnonzero(labels == c)
        rounds = -(-slots.size // pool.size)
        ids[slots] = np.concatenate([rng.permutation(pool) for _ in range(rounds)])[: slots.size]
    return ids.reshape(digits.shape)


def _make_split(digits: np.ndarray, ids: np.ndarray, images: np.ndarray) -> DigitSumSplit:
    return DigitSumSplit(
        images=images[ids],
        digits=digits.astype(np.int64),
        target=digits.sum(axis=1).astype(np.float32),
        image_ids=ids,
    )


def _zipf_split(n: int, p: np.ndarray, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> DigitSumSplit:
    digits = rng.choice(10, size=(n, 3), p=p)
    return _make_split(digits, _assign_images(digits, labels, rng), images)


def _ood_split(n: int, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> DigitSumSplit:
    choices = np.array(OOD_OTHER_DIGITS + (9,))
    digits = choices[rng.integers(len(choices), size=(n, 3))]
    while True:  # redraw samples with no 9 until every sample has one
        bad = np.flatnonzero(~(digits == 9).any(axis=1))
        if bad.size == 0:
            break
        digits[bad] = choices[rng.integers(len(choices), size=(bad.size, 3))]
    return _make_split(digits, _assign_images(digits, labels, rng), images)


def _train_split(
    n: int, p: np.ndarray, nines: int | None, images: np.ndarray, labels: np.ndarray, streams: dict
) -> DigitSumSplit:
    """Training rows: ``nines`` 9s (Binomial(3n, P(9)) if None) at uniform positions, every
    other slot from the law restricted to 0..8.

    All 3n slots first get a 0..8 digit and an image; the 9s then overwrite their slots, taking
    images from one fixed permutation of the 9 pool. None of these draws depends on the number
    of 9s, so for a fixed seed the training sets are nested in it.
    """
    q = p[:9] / p[:9].sum()
    base = streams["train_digits"].choice(9, size=(n, 3), p=q)
    ids = _assign_images(base, labels, streams["train_images"])
    nine_pool = streams["train_images"].permutation(np.flatnonzero(labels == 9))
    rng = streams["train_nines"]
    m = int(rng.binomial(3 * n, p[9])) if nines is None else nines
    positions = rng.permutation(3 * n)[:m]
    digits, ids = base.ravel().copy(), ids.ravel().copy()
    digits[positions] = 9
    ids[positions] = np.resize(nine_pool, m)  # distinct while m <= pool size
    return _make_split(digits.reshape(n, 3), ids.reshape(n, 3), images)


# --------------------------------------------------------------------------- builders


def build_digit_sum(
    *,
    n_train: int,
    n_test: int,
    zipf_exponent: float = 2.0,
    nines_in_train: int | None = None,
    seed: int,
    source: Any = "bundled",
) -> DigitSumTask:
    """Build the digit-sum task (see the module docstring for the laws).

    ``nines_in_train``: exact number of 9s in the training set, each a different 9 image
    (at most the number of 9 images in the training pool, 2,000 for the bundled data).
    ``None``: as many as the Zipf law draws. ``source``: ``"bundled"``, ``"full"`` (downloaded
    MNIST) or a tuple ``(train_images, train_labels, test_images, test_labels)``.
    Deterministic in ``seed``; test sets do not depend on ``nines_in_train``.
    """
    n_train = check_int("n_train", n_train, low=1, high=10_000_000)
    n_test = check_int("n_test", n_test, low=1, high=10_000_000)
    zipf_exponent = check_float("zipf_exponent", zipf_exponent, low=0.0, high=20.0)
    seed = check_seed("seed", seed)
    (tri, trl, tei, tel), source_name = _load_pools(source)
    pool_nines = int((trl == 9).sum())
    if nines_in_train is not None:
        nines_in_train = check_int("nines_in_train", nines_in_train, low=0, high=min(3 * n_train, pool_nines))

    streams = _streams(seed)
    p = zipf_probabilities(zipf_exponent)
    train = _train_split(n_train, p, nines_in_train, tri, trl, streams)
    nines = train.digits == 9
    return DigitSumTask(
        train=train,
        test_in=_zipf_split(n_test, p, tei, tel, streams["test_in"]),
        test_ood=_ood_split(n_test, tei, tel, streams["test_ood"]),
        zipf_exponent=zipf_exponent,
        nines_in_train=int(nines.sum()),
        distinct_nines_in_train=int(np.unique(train.image_ids[nines]).size),
        train_digit_counts=np.bincount(train.digits.ravel(), minlength=10).astype(np.int64),
        seed=seed,
        source=source_name,
    )


def _pair_rows(
    sym_ids: np.ndarray,
    sym_slots: np.ndarray,
    digit_slot: np.ndarray,
    sym_images: np.ndarray,
    sym_labels: np.ndarray,
    other: DigitSumSplit,
) -> DigitSumSplit:
    """Rows with symbol images ``sym_ids[:, k]`` in slots ``sym_slots[:, k]`` (k = 0, 1) and the
    first slot of ``other`` in ``digit_slot``."""
    n = len(sym_ids)
    rows = np.arange(n)
    images = np.empty((n, 3) + sym_images.shape[1:], np.uint8)
    digits = np.empty((n, 3), np.int64)
    ids = np.empty((n, 3), np.int64)
    rare = np.ones((n, 3), bool)
    for k in range(2):
        images[rows, sym_slots[:, k]] = sym_images[sym_ids[:, k]]
        digits[rows, sym_slots[:, k]] = sym_labels[sym_ids[:, k]]
        ids[rows, sym_slots[:, k]] = sym_ids[:, k]
    images[rows, digit_slot] = other.images[:, 0]
    digits[rows, digit_slot] = other.digits[:, 0]
    ids[rows, digit_slot] = other.image_ids[:, 0]
    rare[rows, digit_slot] = False
    return DigitSumSplit(images, digits, digits.sum(axis=1).astype(np.float32), ids, rare)


def build_rare_symbol_task(
    *,
    n_train: int,
    n_test_pairs: int,
    seed: int,
    symbols: str = "rendered",
    images_per_symbol: int = 1,
    zipf_exponent: float = 2.0,
    n_test_in: int = 0,
    source: Any = "bundled",
    digit_images_per_class: int | None = None,
    symbol_seed: int = 0,
    **symbol_options: Any,
) -> RareSymbolTask:
    """The one-shot rare-symbol task of Table 1.

    ``n_train`` rows follow the ordinary training law (natural number of 9s); then
    ``10 * images_per_symbol`` distinct rows, chosen at random, each get one slot replaced by
    one rare symbol image, so every symbol image appears exactly once in training and each
    symbol class ``images_per_symbol`` times. The symbols' slots are balanced over the three
    positions (a shuffled 0, 1, 2, 0, 1, 2, ...).

    ``test`` (``n_test_pairs`` rows): two symbol images with different labels, each in the slot
    where it was seen in training, plus one ordinary test-pool digit (training law) in the third
    slot. Every symbol-image pair that fits (different labels, different training slots; with
    one image per symbol 33 of the 45 label pairs) is used in a shuffled cycle. No two symbols
    ever share a training row, so every test row is a combination never seen in training.
    ``test_moved``: the same rows with every slot shifted by 1 or 2 positions, so each symbol
    sits where it was never seen (a test of position invariance on top of composition).

    ``digit_images_per_class=k`` draws the training digits from a seeded subset of k MNIST
    training images per class (``image_ids`` still index the full pool), so that common digits'
    images recur in many rows as they do at the paper's size: there, 96,000 digit draws from
    about 6,000 images per class show each 0 image about 10 times, each 1 about 2.3 times. A
    one-shot row is then fitted by filing the residual under its symbol, not under its
    ordinary digits' images (each of which other rows pin down). ``None``: the whole pool.
    ``symbols``/``symbol_seed``/``symbol_options`` go to :func:`memcomp.data.rare_symbols`.
    """
    from memcomp.data.symbols import rare_symbols

    n_test_pairs = check_int("n_test_pairs", n_test_pairs, low=1, high=10_000_000)
    images_per_symbol = check_int("images_per_symbol", images_per_symbol, low=1, high=20)
    n_rare = 10 * images_per_symbol
    n_train = check_int("n_train", n_train, low=n_rare, high=10_000_000)
    n_test_in = check_int("n_test_in", n_test_in, low=0, high=10_000_000)
    zipf_exponent = check_float("zipf_exponent", zipf_exponent, low=0.0, high=20.0)
    seed = check_seed("seed", seed)
    check_choice("symbols", symbols, ("rendered", "omniglot"))
    (tri, trl, tei, tel), source_name = _load_pools(source)
    sym_images, sym_labels, sym_names = rare_symbols(
        symbols, images_per_symbol=images_per_symbol, seed=symbol_seed, **symbol_options
    )
    if sym_images.shape[1:] != tri.shape[1:]:
        raise ValueError(f"symbol images {sym_images.shape[1:]} and digit images {tri.shape[1:]} differ in size")

    streams = _streams(seed)
    p = zipf_probabilities(zipf_exponent)
    pool = np.arange(len(trl))
    if digit_images_per_class is not None:
        k = check_int("digit_images_per_class", digit_images_per_class, low=1, high=10_000_000)
        pool = np.sort(np.concatenate([streams["pool"].permutation(np.flatnonzero(trl == c))[:k] for c in range(10)]))
    base = _train_split(n_train, p, None, tri[pool], trl[pool], streams)
    base = DigitSumSplit(base.images, base.digits, base.target, pool[base.image_ids], base.rare)
    rng = streams["rare"]

    # one rare symbol image per chosen row; the training slots are balanced over the positions
    rare_rows = np.sort(rng.choice(n_train, size=n_rare, replace=False))
    symbol_of_row = rng.permutation(n_rare)
    rare_slots = rng.permutation(np.arange(n_rare) % 3)
    images, digits = base.images.copy(), base.digits.copy()
    ids, rare = base.image_ids.copy(), base.rare.copy()
    images[rare_rows, rare_slots] = sym_images[symbol_of_row]
    digits[rare_rows, rare_slots] = sym_labels[symbol_of_row]
    ids[rare_rows, rare_slots] = symbol_of_row
    rare[rare_rows, rare_slots] = True
    train = DigitSumSplit(images, digits, digits.sum(axis=1).astype(np.float32), ids, rare)

    # test rows: two symbol images with different labels, each in the slot it held in training
    # (so the two held different slots), and one ordinary test-pool digit in the third slot
    slot_of_image = np.empty(n_rare, np.int64)
    slot_of_image[symbol_of_row] = rare_slots
    pairs = np.array(
        [
            (a, b)
            for a in range(n_rare)
            for b in range(a + 1, n_rare)
            if sym_labels[a] != sym_labels[b] and slot_of_image[a] != slot_of_image[b]
        ]
    )
    order = np.concatenate([rng.permutation(len(pairs)) for _ in range(-(-n_test_pairs // len(pairs)))])
    sym_ids = pairs[order[:n_test_pairs]]
    sym_slots = slot_of_image[sym_ids]
    other = _zipf_split(n_test_pairs, p, tei, tel, rng)  # its first slot supplies the digit
    test = _pair_rows(sym_ids, sym_slots, 3 - sym_slots.sum(axis=1), sym_images, sym_labels, other)
    shift = rng.integers(1, 3, size=(n_test_pairs, 1))  # every slot moves by 1 or 2 positions
    test_moved = _pair_rows(sym_ids, (sym_slots + shift) % 3, (3 - sym_slots.sum(axis=1) + shift[:, 0]) % 3, sym_images, sym_labels, other)

    test_in = _zipf_split(n_test_in, p, tei, tel, streams["test_in"])
    ordinary = train.digits[~train.rare]
    return RareSymbolTask(
        train=train,
        test=test,
        test_moved=test_moved,
        test_in=test_in,
        symbol_images=sym_images,
        symbol_labels=sym_labels,
        symbol_names=sym_names,
        rare_rows=rare_rows,
        rare_labels=digits[rare_rows, rare_slots],
        rare_slots=rare_slots,
        zipf_exponent=zipf_exponent,
        train_digit_counts=np.bincount(ordinary, minlength=10).astype(np.int64),
        seed=seed,
        symbols=symbols,
        meta={"images_per_symbol": images_per_symbol, "source": source_name, "symbol_seed": symbol_seed},
    )


def nearest_train_distance(
    task: DigitSumTask | RareSymbolTask,
    split: str | DigitSumSplit | None = None,
    *,
    chunk: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance (pixels scaled to [0, 1], all three channels) from each sample of a
    test split to its nearest training sample, and that sample's row.

    ``split`` defaults to ``test`` for a :class:`RareSymbolTask` and ``test_ood`` for a
    :class:`DigitSumTask`; a name (``"test"``, ``"test_moved"``, ``"test_in"``, ``"test_ood"``)
    or a split.
    """
    if split is None:
        split = "test" if isinstance(task, RareSymbolTask) else "test_ood"
    if isinstance(split, str):
        names = ("test", "test_moved", "test_in") if isinstance(task, RareSymbolTask) else ("test_in", "test_ood")
        split = getattr(task, check_choice("split", split, names))
    chunk = check_int("chunk", chunk, low=1, high=10_000_000)
    queries = split.images.reshape(len(split), -1).astype(np.float32) / 255.0
    refs = task.train.images.reshape(len(task.train), -1)
    q_sq = (queries.astype(np.float64) ** 2).sum(axis=1)
    best = np.full(len(queries), np.inf)
    best_row = np.zeros(len(queries), np.int64)
    for start in range(0, len(refs), chunk):
        block = refs[start : start + chunk].astype(np.float32) / 255.0
        b_sq = (block.astype(np.float64) ** 2).sum(axis=1)
        d2 = q_sq[:, None] + b_sq[None, :] - 2.0 * (queries @ block.T).astype(np.float64)
        arg = d2.argmin(axis=1)
        val = d2[np.arange(len(queries)), arg]
        better = val < best
        best[better], best_row[better] = val[better], arg[better] + start
    return np.sqrt(np.clip(best, 0.0, None)), best_row
