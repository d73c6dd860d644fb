"""Shards: many items in few bounded files that DVC hashes cheaply, read back exactly, and a lost or damaged one
named before any work starts."""

import numpy as np
import pytest

from cocktail.data.shards import ShardWriter, SignalWriter, load_npz, megabytes, pack, shard_paths, unpack
from cocktail.errors import CocktailError


def item(i: int) -> dict[str, np.ndarray]:
    return {"x": np.full(100, i, np.float32), "y": np.array([i], np.int64)}  # 408 bytes


def stacked(items: list[dict]) -> dict[str, np.ndarray]:
    return {key: np.stack([i[key] for i in items]) for key in items[0]}


def test_items_go_to_numbered_shards_of_bounded_size_in_order(tmp_path):
    writer = ShardWriter(tmp_path / "split", "things", 1000, stacked)
    for i in range(7):
        writer.append(item(i))
    counts = writer.close()
    assert counts == [3, 3, 1], "a shard is written once it holds max_bytes or more"
    paths = shard_paths(tmp_path / "split", "things", counts)
    assert [p.name for p in paths] == ["things-00000.npz", "things-00001.npz", "things-00002.npz"]
    read = [load_npz(p) for p in paths]
    np.testing.assert_array_equal(np.concatenate([r["y"] for r in read]), np.arange(7)[:, None])
    assert read[1]["x"].shape == (3, 100) and read[1]["x"].dtype == np.float32


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_lost_or_damaged_shard_is_named_with_the_fix(tmp_path, damage):
    writer = ShardWriter(tmp_path, "things", 500, stacked)
    for i in range(3):
        writer.append(item(i))
    counts = writer.close()
    shard = tmp_path / "things-00001.npz"
    if damage == "missing":
        shard.unlink()
    else:
        shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(CocktailError, match=f"things-00001.npz is {damage}.*dvc checkout"):
        shard_paths(tmp_path, "things", counts)


def test_signals_appended_to_one_file_are_read_back_by_offset(tmp_path):
    rng = np.random.default_rng(0)
    signals = [rng.standard_normal(n).astype(np.float32) for n in (5, 0, 1000, 17)]
    writer = SignalWriter(tmp_path / "audio.npy")
    for signal in signals:
        writer.append(signal)
    offsets = writer.close()
    audio = np.load(tmp_path / "audio.npy", mmap_mode="r")
    assert audio.dtype == np.float32 and len(audio) == offsets[-1] == 1022
    for i, signal in enumerate(signals):
        np.testing.assert_array_equal(audio[offsets[i] : offsets[i + 1]], signal)


def test_ragged_signals_pack_and_unpack_along_time():
    signals = [np.ones((2, n), np.float32) * n for n in (3, 1, 4)]
    packed, offsets = pack(signals)
    assert packed.shape == (2, 8) and list(offsets) == [0, 3, 4, 8]
    for original, back in zip(signals, unpack(packed, offsets)):
        np.testing.assert_array_equal(back, original)


def test_shard_size_is_given_in_megabytes():
    assert megabytes({"shard_megabytes": 0.5}, "shard_megabytes") == 2**19
