import numpy as np

from cocktail.dsp.masks import (
    ideal_binary_mask,
    ideal_ratio_mask,
    mask_accuracy,
    nearest_centre,
    squared_distances,
    voice_activity_weights,
)


def test_ibm_picks_dominant_source():
    mags = np.array(
        [
            [[1.0, 0.1], [0.5, 3.0]],
            [[0.2, 0.9], [0.6, 1.0]],
            [[0.0, 0.0], [0.7, 0.5]],
        ]
    )  # (C=3, T=2, F=2)
    ibm = ideal_binary_mask(mags)
    assert ibm.shape == mags.shape and ibm.dtype == np.uint8
    np.testing.assert_array_equal(ibm.sum(axis=0), 1)
    expected_winner = np.array([[0, 1], [2, 0]])
    np.testing.assert_array_equal(np.argmax(ibm, axis=0), expected_winner)


def test_ibm_one_hot_on_random(rng):
    ibm = ideal_binary_mask(rng.random((2, 5, 7)))
    assert set(np.unique(ibm)) <= {0, 1}
    np.testing.assert_array_equal(ibm.sum(axis=0), 1)


def test_irm_sums_to_one(rng):
    irm = ideal_ratio_mask(rng.random((3, 4, 6)) + 0.01)
    np.testing.assert_allclose(irm.sum(axis=0), 1.0, atol=1e-5)
    assert irm.min() >= 0 and irm.max() <= 1


def test_vad_drops_bins_below_threshold():
    # max is 1.0; at 40 dB the floor is 0.01 (exactly-on-the-floor is left untested: the spec and code may differ)
    mag = np.array([[1.0, 0.5, 0.0101, 0.0099], [0.009, 0.0, 0.02, 1e-6]])
    vad = voice_activity_weights(mag, 40.0)
    np.testing.assert_array_equal(vad, [[1, 1, 1, 0], [0, 0, 1, 0]])
    # at 20 dB the floor is 0.1
    np.testing.assert_array_equal(voice_activity_weights(mag, 20.0), [[1, 1, 0, 0], [0, 0, 0, 0]])


def test_vad_is_relative_to_the_max():
    mag = np.array([[1.0, 0.011, 0.009]])
    np.testing.assert_array_equal(voice_activity_weights(mag, 40.0), voice_activity_weights(100 * mag, 40.0))


def test_mask_accuracy_perfect_and_inverted(rng):
    ibm = ideal_binary_mask(rng.random((2, 6, 5)))
    weights = np.ones((6, 5))
    assert mask_accuracy(ibm.astype(np.float32), ibm, weights) == 1.0
    assert mask_accuracy(ibm[::-1].astype(np.float32), ibm, weights) == 0.0


def test_mask_accuracy_counts_active_bins_only():
    ibm = np.array([[[1, 0]], [[0, 1]]])  # (2, 1, 2)
    est = np.array([[[0.9, 0.9]], [[0.1, 0.1]]])  # right on bin 0, wrong on bin 1
    assert mask_accuracy(est, ibm, np.array([[1, 1]])) == 0.5
    assert mask_accuracy(est, ibm, np.array([[1, 0]])) == 1.0
    assert mask_accuracy(est, ibm, np.array([[0, 1]])) == 0.0


def test_squared_distances_match_the_pairwise_differences(rng):
    a, b = rng.standard_normal((50, 20)), rng.standard_normal((7, 20))
    expected = ((a[:, None] - b[None]) ** 2).sum(-1)
    np.testing.assert_allclose(squared_distances(a, b), expected, rtol=1e-10)
    assert (squared_distances(a, a) >= 0).all() and np.allclose(np.diag(squared_distances(a, a)), 0, atol=1e-12)


def test_nearest_centre_assigns_each_point_to_its_own_centre(rng):
    centres = rng.standard_normal((3, 5)) * 10
    labels = rng.integers(0, 3, 200)
    points = centres[labels] + 0.1 * rng.standard_normal((200, 5))
    np.testing.assert_array_equal(nearest_centre(points, centres), labels)
