"""Simulated rooms for reverberant mixtures, as WHAMR! makes them, with the RT60 asked for being the RT60 produced.

WHAMR! (Maciejewski et al., 2020) hears each wsj0-2mix source through a random pyroomacoustics shoebox room whose RT60
is about 0.1 to 1.0 s, and trains to recover the direct-path source, aligned with the reverberant mixture. Rooms here
are built the same way, with the image-source method only (ray tracing casts random rays: not bit-for-bit repeatable),
and with what pyroomacoustics leaves to its caller:

- Sabine's and Eyring's formulas give an absorption whose image-source RIR decays up to twice too slowly in rooms this
  flat (the images along the long walls reflect seldom). The absorption is corrected from the RT60 measured on the RIR
  itself (T30, extrapolated to 60 dB) until every position is within 10 %, at most twice; the image sources do not
  depend on the absorption, so a correction only reweights them. A room still more than 20 % off is drawn again.
- The RIR ends at the RT60, when the sound is 60 dB down: later images are only the sparse few along the long walls
  that the reflection order reaches, and building them would cost most of the time.
- The direct-path target is the same room without reflections, through the same high-pass filter, so it lines up
  sample for sample with the direct sound in what is heard.
- The RIRs are bit-for-bit the same on every machine: pyroomacoustics sums them in as many blocks as it has threads,
  so the thread count is pinned.

Reweighting and ending the RIR use pyroomacoustics 0.10's image arrays (damping, orders, visibility); tests/test_reverb.py
checks that a room built afresh with the corrected absorption gives the same RIRs.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyroomacoustics as pra
from scipy.signal import butter, fftconvolve, sosfiltfilt

from cocktail.errors import CocktailError
from cocktail.params import checked_choice

SIDE_M = (5.0, 10.0)  # length and width, as WHAMR!
HEIGHT_M = (2.5, 3.5)
WALL_MARGIN_M = 0.5  # microphone and sources at least this far from every wall, floor and ceiling
SOURCE_DISTANCE_M = (1.0, 3.0)  # from the microphone
RT60_LIMITS = (0.1, 1.5)  # seconds the rooms above can be simulated to have, within TOLERANCE (see check_rt60_range)
DECAY_DB = 30  # RT60 measured as T30: the decay from -5 to -35 dB, extrapolated to 60 dB
TOLERANCE = 0.2  # every position's measured RT60 within 20 % of the drawn one, or the room is drawn again
CORRECT_BEYOND = 0.1  # the absorption is corrected while a position is more than 10 % off
MAX_CORRECTIONS = 2
MAX_ATTEMPTS = 20  # rooms drawn for one RT60 before giving up (about one in five is redrawn near 0.1 s, none seen above 0.2 s)
HIGHPASS_HZ = 10.0  # removes the DC gain of the all-positive image sum, as pyroomacoustics' own filter does
PRA_SETTINGS = {"num_threads": 1, "rir_hpf_enable": False}  # one block: the same sums everywhere; our own high-pass
TARGETS = ("direct", "reverberant")
TARGET_MEANINGS = (
    ": direct is the direct-path source, aligned with the mixture (WHAMR!'s anechoic target), reverberant the source "
    "as heard in the room"
)


@dataclass(frozen=True, eq=False)
class Room:
    """A simulated shoebox room and the impulse responses from each source position to its one microphone."""

    dims: tuple[float, float, float]  # metres
    rt60: float  # seconds, as drawn
    absorption: float  # energy absorption of every surface, after correction
    max_order: int
    reverberant: tuple[np.ndarray, ...]  # one RIR per source position (float64), all with the same time origin
    direct: tuple[np.ndarray, ...]  # the direct-path RIR of each position, same time origin and length as `reverberant`
    mic: tuple[float, float, float]
    sources: tuple[tuple[float, float, float], ...]


def check_rt60_range(rt60) -> tuple[float, float]:
    """`mix.rt60` as (low, high) seconds, refused where it is no range or one the simulated rooms cannot have."""
    low_limit, high_limit = RT60_LIMITS
    numbers = isinstance(rt60, (list, tuple)) and len(rt60) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in rt60
    )
    if not numbers:
        raise CocktailError(
            f"params key 'mix.rt60' is {rt60!r}: give [low, high] in seconds, the range each room's reverberation time "
            "is drawn from, e.g. [0.1, 1.0] as in WHAMR!."
        )
    low, high = float(rt60[0]), float(rt60[1])
    if low > high:
        raise CocktailError(f"params key 'mix.rt60' is {list(rt60)}: it is upside down, write [{high}, {low}].")
    if low <= 0:
        raise CocktailError(f"params key 'mix.rt60' is {list(rt60)}: reverberation times are positive, e.g. [0.1, 1.0].")
    if low < low_limit or high > high_limit:
        raise CocktailError(
            f"params key 'mix.rt60' is {list(rt60)}: the simulated rooms ({SIDE_M[0]:g}-{SIDE_M[1]:g} m, sources "
            f"{SOURCE_DISTANCE_M[0]:g}-{SOURCE_DISTANCE_M[1]:g} m from the microphone) have RT60s from {low_limit} to "
            f"{high_limit} s: a shorter decay is hidden by the direct sound and first reflections, and a longer one takes "
            f"minutes and gigabytes per room. Keep both within [{low_limit}, {high_limit}]."
        )
    return low, high


def measured_rt60(rir: np.ndarray, sample_rate: int) -> float:
    """The RT60 of an impulse response, from its T30 (pyroomacoustics' Schroeder-integral fit)."""
    return float(pra.experimental.measure_rt60(rir, fs=sample_rate, decay_db=DECAY_DB))


@contextmanager
def pinned_pyroomacoustics() -> Iterator[None]:
    """PRA_SETTINGS for the duration, pyroomacoustics' own settings restored after."""
    saved = {key: pra.constants.get(key) for key in PRA_SETTINGS}
    for key, value in PRA_SETTINGS.items():
        pra.constants.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            pra.constants.set(key, value)


def eyring_absorption(rt60: float, dims: np.ndarray) -> float:
    """The absorption Eyring's formula gives: Sabine's, but below 1 for any RT60, so short ones fit large rooms."""
    volume = np.prod(dims)
    surface = 2 * (dims[0] * dims[1] + dims[0] * dims[2] + dims[1] * dims[2])
    return float(-np.expm1(-24 * np.log(10) * volume / (pra.constants.get("c") * surface * rt60)))


def image_order(rt60: float, dims: np.ndarray) -> int:
    """The reflection order whose images cover every path shorter than RT60 seconds (as pra.inverse_sabine)."""
    radius = min(a * b / np.hypot(a, b) for a, b in ((dims[0], dims[1]), (dims[0], dims[2]), (dims[1], dims[2])))
    return int(np.ceil(pra.constants.get("c") * rt60 / radius - 1))


def draw_geometry(n_positions: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Room dimensions, a microphone anywhere inside the margins, and sources 1-3 m from it in random directions."""
    dims = np.array([rng.uniform(*SIDE_M), rng.uniform(*SIDE_M), rng.uniform(*HEIGHT_M)])
    low, high = WALL_MARGIN_M, dims - WALL_MARGIN_M
    mic = rng.uniform(low, high)
    sources = []
    while len(sources) < n_positions:
        direction = rng.standard_normal(3)
        position = mic + rng.uniform(*SOURCE_DISTANCE_M) * direction / np.linalg.norm(direction)
        if np.all(position >= low) and np.all(position <= high):
            sources.append(position)
    return dims, mic, sources


def shoebox(dims, mic, sources, sample_rate: int, max_order: int, absorption: float, seconds: float) -> pra.ShoeBox:
    """The room with its RIRs built from the images heard within `seconds` only."""
    room = pra.ShoeBox(dims, fs=sample_rate, max_order=max_order, materials=pra.Material(absorption))
    for position in sources:
        room.add_source(position)
    room.add_microphone(mic)
    room.image_source_model()
    for source, visible in zip(room.sources, room.visibility):
        visible[:, np.linalg.norm(source.images - mic[:, None], axis=0) > pra.constants.get("c") * seconds] = 0
    room.compute_rir()
    return room


def highpassed(rir: np.ndarray, length: int, sample_rate: int) -> np.ndarray:
    """The RIR zero-padded to `length` and high-passed: filters of one length are linear, so the direct RIR so treated
    is exactly the direct sound of the reverberant one."""
    sos = butter(2, HIGHPASS_HZ, btype="highpass", fs=sample_rate, output="sos")
    return sosfiltfilt(sos, np.pad(rir.astype(np.float64), (0, length - len(rir))))


def reabsorb(room: pra.ShoeBox, old: float, new: float) -> None:
    """Recompute the RIRs with absorption `new`: an image reflected n times is damped by sqrt(1 - absorption)^n, so
    the images found with `old` are reweighted rather than searched for again (the search costs the most)."""
    gain = np.sqrt((1 - new) / (1 - old))
    for source in room.sources:
        source.damping = source.damping * gain**source.orders
    room.compute_rir()


def simulate(dims: np.ndarray, mic: np.ndarray, sources: list[np.ndarray], rt60: float, sample_rate: int) -> Room | None:
    """The room with its absorption corrected to `rt60`, or None where a position stays more than TOLERANCE off."""
    absorption, max_order = eyring_absorption(rt60, dims), image_order(rt60, dims)
    room = shoebox(dims, mic, sources, sample_rate, max_order, absorption, rt60)
    for correction in range(MAX_CORRECTIONS + 1):
        reverberant = [highpassed(rir, len(rir), sample_rate) for rir in room.rir[0]]
        ratios = np.array([measured_rt60(rir, sample_rate) for rir in reverberant]) / rt60
        if correction == MAX_CORRECTIONS or np.all(np.abs(ratios - 1) <= CORRECT_BEYOND):
            break
        corrected = float(-np.expm1(ratios.mean() * np.log1p(-absorption)))  # the decay rate goes as -log(1 - absorption)
        reabsorb(room, absorption, corrected)
        absorption = corrected
    if np.any(np.abs(ratios - 1) > TOLERANCE):
        return None
    direct = shoebox(dims, mic, sources, sample_rate, 0, absorption, rt60).rir[0]
    return Room(
        dims=tuple(map(float, dims)),
        rt60=rt60,
        absorption=absorption,
        max_order=max_order,
        reverberant=tuple(reverberant),
        direct=tuple(highpassed(d, len(r), sample_rate) for d, r in zip(direct, reverberant)),
        mic=tuple(map(float, mic)),
        sources=tuple(tuple(map(float, s)) for s in sources),
    )


def draw_rooms(count: int, n_positions: int, rt60_range: tuple[float, float], sample_rate: int,
               rng: np.random.Generator) -> list[Room]:
    """`count` rooms, each with an RT60 drawn uniformly from `rt60_range` and `n_positions` source positions."""
    low, high = check_rt60_range(rt60_range)
    rooms = []
    with pinned_pyroomacoustics():
        for _ in range(count):
            rt60 = float(rng.uniform(low, high))
            for _ in range(MAX_ATTEMPTS):
                room = simulate(*draw_geometry(n_positions, rng), rt60, sample_rate)
                if room is not None:
                    break
            else:
                raise CocktailError(
                    f"no simulated room reached an RT60 of {rt60:.3f} s within {TOLERANCE:.0%} in {MAX_ATTEMPTS} tries: "
                    f"narrow params key 'mix.rt60' ({low}, {high}) away from that value."
                )
            rooms.append(room)
    return rooms


def reverberate(signals: list[np.ndarray], room: Room, target: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each signal as heard from its position in `room`, and its training target: the direct-path signal, aligned with
    what is heard (WHAMR!'s anechoic target), or what is heard itself. All cut to the signals' own lengths."""
    checked_choice("mix.target", target, TARGETS, TARGET_MEANINGS)
    if len(signals) > len(room.reverberant):
        raise ValueError(f"{len(signals)} signals for a room with {len(room.reverberant)} source positions")
    heard = [fftconvolve(s, rir)[: len(s)] for s, rir in zip(signals, room.reverberant)]
    if target == "reverberant":
        return heard, [h.copy() for h in heard]
    return heard, [fftconvolve(s, rir)[: len(s)] for s, rir in zip(signals, room.direct)]
