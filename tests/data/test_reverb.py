import numpy as np
import pyroomacoustics as pra
import pytest
from scipy.signal import correlate

from cocktail.data.reverb import (
    HEIGHT_M,
    SIDE_M,
    SOURCE_DISTANCE_M,
    TOLERANCE,
    WALL_MARGIN_M,
    check_rt60_range,
    draw_rooms,
    highpassed,
    measured_rt60,
    pinned_pyroomacoustics,
    reverberate,
    shoebox,
)
from cocktail.errors import CocktailError

SR = 8000


@pytest.fixture(scope="module")
def rooms():
    """Short rooms, cheap to simulate: 0.1 s (the shortest allowed) to 0.4 s."""
    return draw_rooms(4, 2, (0.1, 0.4), SR, np.random.default_rng(0))


@pytest.fixture
def bursts():
    """Two noise bursts of different lengths, with silence after them."""
    noise = np.random.default_rng(1).standard_normal((2, 2000))
    return [np.pad(noise[0], (0, 2000)), np.pad(noise[1, :1500], (0, 3000))]


def test_rt60_is_what_was_asked(rooms):
    long_room = draw_rooms(1, 1, (0.9, 1.0), SR, np.random.default_rng(2))
    for room in rooms + long_room:
        for rir in room.reverberant:
            assert abs(measured_rt60(rir, SR) / room.rt60 - 1) <= TOLERANCE
            assert len(rir) <= room.rt60 * SR + pra.constants.get("frac_delay_length") + 2  # ends at the RT60
    assert all(0.1 <= room.rt60 <= 0.4 for room in rooms) and 0.9 <= long_room[0].rt60 <= 1.0


def test_stored_absorption_reproduces_the_rirs(rooms):
    """The corrected RIRs reweight the images found with the first absorption: a fresh room must give the same."""
    room = rooms[0]
    with pinned_pyroomacoustics():
        fresh = shoebox(np.array(room.dims), np.array(room.mic), room.sources, SR, room.max_order, room.absorption, room.rt60)
    for rir, again in zip(room.reverberant, fresh.rir[0]):
        np.testing.assert_allclose(highpassed(again, len(again), SR), rir, atol=1e-5 * np.abs(rir).max())


def test_direct_target_is_aligned_with_what_is_heard(rooms, bursts):
    for room in rooms:
        heard, targets = reverberate(bursts, room, "direct")
        for signal, h, t, source in zip(bursts, heard, targets, room.sources):
            assert np.argmax(correlate(h, t)) == len(t) - 1  # lag 0
            # ... and the target is the source delayed by its path (plus pyroomacoustics' fractional-delay filter)
            delay = np.linalg.norm(np.subtract(source, room.mic)) / pra.constants.get("c") * SR
            lag = np.argmax(correlate(t, signal)) - (len(signal) - 1)
            assert abs(lag - (delay + pra.constants.get("frac_delay_length") // 2)) <= 1


def test_reverberant_target_is_what_is_heard(rooms, bursts):
    heard, targets = reverberate(bursts, rooms[1], "reverberant")
    for h, t in zip(heard, targets):
        np.testing.assert_array_equal(h, t)


def test_outputs_are_as_long_as_the_inputs(rooms):
    signals = [np.ones(3000, np.float32), np.ones(50, np.float32)]
    for target in ("direct", "reverberant"):
        heard, targets = reverberate(signals, rooms[2], target)
        assert [len(h) for h in heard] == [len(t) for t in targets] == [3000, 50]


def test_same_seed_same_rooms_bit_for_bit():
    first, second, other = (draw_rooms(2, 2, (0.1, 0.3), SR, np.random.default_rng(seed)) for seed in (7, 7, 8))
    for a, b in zip(first, second):
        assert (a.dims, a.rt60, a.absorption, a.mic, a.sources) == (b.dims, b.rt60, b.absorption, b.mic, b.sources)
        for x, y in zip(a.reverberant + a.direct, b.reverberant + b.direct):
            assert x.dtype == np.float64 and np.array_equal(x, y)
    assert first[0].dims != other[0].dims


def test_sources_and_microphone_inside_the_room(rooms):
    for room in rooms:
        dims = np.array(room.dims)
        assert SIDE_M[0] <= dims[0] <= SIDE_M[1] and SIDE_M[0] <= dims[1] <= SIDE_M[1] and HEIGHT_M[0] <= dims[2] <= HEIGHT_M[1]
        assert len(room.sources) == len(room.reverberant) == len(room.direct) == 2
        for position in (room.mic, *room.sources):
            assert np.all(np.array(position) >= WALL_MARGIN_M) and np.all(np.array(position) <= dims - WALL_MARGIN_M)
        for source in room.sources:
            assert SOURCE_DISTANCE_M[0] <= np.linalg.norm(np.subtract(source, room.mic)) <= SOURCE_DISTANCE_M[1]


def test_pyroomacoustics_settings_restored():
    before = {key: pra.constants.get(key) for key in ("num_threads", "rir_hpf_enable")}
    draw_rooms(1, 1, (0.1, 0.1), SR, np.random.default_rng(3))
    assert {key: pra.constants.get(key) for key in before} == before


def test_rt60_range_comes_back_as_numbers():
    assert check_rt60_range([0.1, 1]) == (0.1, 1.0)
    assert check_rt60_range([0.3, 0.3]) == (0.3, 0.3)


@pytest.mark.parametrize(
    "rt60, says",
    [
        ([1.0, 0.1], "upside down"),
        ("0.1-1.0", "give [low, high]"),
        (0.5, "give [low, high]"),
        ([0.1], "give [low, high]"),
        ([0.1, "long"], "give [low, high]"),
        ([0, 1.0], "positive"),
        ([0.01, 0.5], "have RT60s from"),
        ([0.1, 20], "have RT60s from"),
    ],
)
def test_bad_rt60_range_names_its_key(rt60, says):
    with pytest.raises(CocktailError, match="params key 'mix.rt60'") as err:
        check_rt60_range(rt60)
    assert says in str(err.value)


def test_unknown_target_names_its_key_and_the_valid_ones(rooms, bursts):
    with pytest.raises(CocktailError, match="params key 'mix.target' is 'anechoic': use direct or reverberant: direct is"):
        reverberate(bursts, rooms[0], "anechoic")
