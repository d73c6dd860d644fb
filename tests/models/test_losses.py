import itertools

import numpy as np
from keras import ops

from cocktail.models.danet import attractors, danet_loss
from cocktail.models.losses import deep_clustering_loss, mask_mse_fixed, mask_mse_pit, negative_si_snr_upit
from cocktail.scoring.metrics import si_snr_np


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def one_hot_ibm(rng, shape, n_sources):
    labels = rng.integers(0, n_sources, size=shape)
    return np.eye(n_sources, dtype=np.float32)[labels]


def naive_dc_loss(v, y, vad):
    """‖VVᵀ − YYᵀ‖²_F over the active bins with explicit N x N affinities, / (active bins)²."""
    out = []
    for b in range(v.shape[0]):
        active = vad[b].reshape(-1) > 0
        vb = v[b].reshape(-1, v.shape[-1])[active].astype(np.float64)
        yb = y[b].reshape(-1, y.shape[-1])[active].astype(np.float64)
        diff = vb @ vb.T - yb @ yb.T
        out.append(np.sum(diff**2) / active.sum() ** 2)
    return np.array(out)


def test_deep_clustering_matches_naive_form(rng):
    batch, frames, bins, dim, n_sources = 2, 5, 7, 4, 2
    v = rng.standard_normal((batch, frames, bins, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    y = one_hot_ibm(rng, (batch, frames, bins), n_sources)
    vad = (rng.random((batch, frames, bins)) > 0.3).astype(np.float32)
    assert 0 < vad.sum() < vad.size
    targets = np.concatenate([y, vad[..., None]], axis=-1)
    got = np_(deep_clustering_loss(targets, v))
    assert got.shape == (batch,)
    np.testing.assert_allclose(got, naive_dc_loss(v, y, vad), rtol=1e-4)
    # silent bins really are ignored: changing their embeddings changes nothing
    v2 = np.where(vad[..., None] > 0, v, -v)
    np.testing.assert_allclose(np_(deep_clustering_loss(targets, v2)), got, rtol=1e-5)


def test_deep_clustering_zero_for_ideal_embeddings(rng):
    y = one_hot_ibm(rng, (2, 4, 6), 3)
    vad = np.ones((2, 4, 6), np.float32)
    loss = np_(deep_clustering_loss(np.concatenate([y, vad[..., None]], axis=-1), y))
    np.testing.assert_allclose(loss, 0.0, atol=1e-6)
    # and a wrong assignment is not zero
    wrong = np_(deep_clustering_loss(np.concatenate([y, vad[..., None]], axis=-1), np.roll(y, 1, axis=2)))
    assert np.all(wrong > 0.01)


def test_mask_mse_pit_is_order_invariant(rng):
    ibm = one_hot_ibm(rng, (3, 6, 9), 2)
    masks = np.clip(ibm + 0.1 * rng.standard_normal(ibm.shape), 0, 1).astype(np.float32)
    fixed = np_(mask_mse_fixed(ibm, masks))
    pit = np_(mask_mse_pit(ibm, masks))
    assert pit.shape == (3,)
    np.testing.assert_allclose(pit, fixed, rtol=1e-6)
    assert np.all(pit < 0.05)

    swapped = masks[..., ::-1].copy()
    np.testing.assert_allclose(np_(mask_mse_pit(ibm, swapped)), pit, rtol=1e-6)
    assert np.all(np_(mask_mse_fixed(ibm, swapped)) > 0.5)


def test_mask_mse_pit_per_chunk(rng):
    """Each chunk of the batch gets its own best order."""
    ibm = one_hot_ibm(rng, (2, 4, 5), 2)
    masks = ibm.copy()
    masks[1] = masks[1, ..., ::-1]
    np.testing.assert_allclose(np_(mask_mse_pit(ibm, masks)), 0.0, atol=1e-7)
    fixed = np_(mask_mse_fixed(ibm, masks))
    assert fixed[0] == 0 and fixed[1] == 1


def test_upit_finds_the_swap(rng):
    sources = rng.standard_normal((2, 2, 800)).astype(np.float32)
    estimates = (sources + 0.1 * rng.standard_normal(sources.shape)).astype(np.float32)
    loss = np_(negative_si_snr_upit(sources, estimates))
    swapped = np_(negative_si_snr_upit(sources, estimates[:, ::-1].copy()))
    np.testing.assert_allclose(swapped, loss, rtol=1e-5)
    expected = -si_snr_np(estimates, sources).mean(axis=1)
    np.testing.assert_allclose(loss, expected, rtol=1e-4)
    assert np.all(loss < -15)


def test_upit_three_sources(rng):
    sources = rng.standard_normal((1, 3, 600)).astype(np.float32)
    estimates = (sources + 0.05 * rng.standard_normal(sources.shape)).astype(np.float32)
    expected = -si_snr_np(estimates, sources).mean(axis=1)
    for perm in itertools.permutations(range(3)):
        got = np_(negative_si_snr_upit(sources, estimates[:, list(perm)].copy()))
        np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_mask_mse_pit_three_sources_picks_the_right_order(rng):
    """Whatever order the three masks come out in, PIT scores it as the matching order."""
    ibm = one_hot_ibm(rng, (2, 5, 7), 3)
    for perm in itertools.permutations(range(3)):
        masks = ibm[..., list(perm)].copy()
        np.testing.assert_allclose(np_(mask_mse_pit(ibm, masks)), 0.0, atol=1e-7)
        if perm != (0, 1, 2):
            assert np.all(np_(mask_mse_fixed(ibm, masks)) > 0.3)


def test_attractors_are_mean_embeddings_of_each_sources_bins(rng):
    v = rng.standard_normal((2, 30, 4)).astype(np.float32)
    y = one_hot_ibm(rng, (2, 30), 3)
    y[1, :, 2] = 0  # a source with no bins gets a zero attractor, not NaN
    a = np_(attractors(v, y))
    assert a.shape == (2, 3, 4)
    for b in range(2):
        for c in range(3):
            chosen = y[b, :, c] > 0
            expected = v[b][chosen].mean(axis=0) if chosen.any() else np.zeros(4)
            np.testing.assert_allclose(a[b, c], expected, rtol=1e-5, atol=1e-6)


def pack_danet_targets(ibm, vad, mixture, sources):
    return np.concatenate([ibm, vad[..., None], mixture[..., None], sources], axis=-1).astype(np.float32)


def test_danet_loss_matches_definition_and_rewards_separated_embeddings(rng):
    batch, frames, bins, n = 2, 6, 5, 2
    ibm = one_hot_ibm(rng, (batch, frames, bins), n)
    # speech-like sparsity: one source holds nearly all of each bin's energy
    sources = (ibm * (1 + np.abs(rng.standard_normal(ibm.shape))) + 0.01).astype(np.float32)
    mixture = sources.sum(axis=-1)
    vad = np.ones((batch, frames, bins), np.float32)
    targets = pack_danet_targets(ibm, vad, mixture, sources)
    v = rng.standard_normal((batch, frames, bins, 3)).astype(np.float32)
    # the definition, spelled out with numpy
    flat_v, flat_y = v.reshape(batch, -1, 3), ibm.reshape(batch, -1, n)
    a = np.einsum("bnc,bnd->bcd", flat_y, flat_v) / flat_y.sum(axis=1)[..., None]
    logits = np.einsum("bnd,bcd->bnc", flat_v, a)
    masks = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    expected = ((sources.reshape(batch, -1, n) - mixture.reshape(batch, -1, 1) * masks) ** 2).sum(axis=-1).mean(axis=1)
    np.testing.assert_allclose(np_(danet_loss("softmax")(targets, v)), expected, rtol=1e-4)
    # embeddings that point one way per source give a far lower loss than random ones
    separated = (10 * np.eye(3)[:n][ibm.argmax(axis=-1)]).astype(np.float32)
    assert np.all(np_(danet_loss("softmax")(targets, separated)) < 0.1 * np_(danet_loss("softmax")(targets, v)))
    assert np_(danet_loss("sigmoid")(targets, v)).shape == (batch,)


def test_danet_loss_ignores_silent_bins_in_the_attractors(rng):
    """Moving the embeddings of silent bins (VAD 0) leaves the attractors, so the active bins' masks, alone."""
    ibm = one_hot_ibm(rng, (1, 4, 6), 2)
    sources = np.abs(rng.standard_normal((1, 4, 6, 2))).astype(np.float32)
    sources[0, 0] = 0.0  # the silent frame holds no energy, so its own error term is zero either way
    vad = np.ones((1, 4, 6), np.float32)
    vad[0, 0] = 0
    targets = pack_danet_targets(ibm, vad, sources.sum(-1), sources)
    v = rng.standard_normal((1, 4, 6, 3)).astype(np.float32)
    moved = v.copy()
    moved[0, 0] += 100.0
    np.testing.assert_allclose(np_(danet_loss("softmax")(targets, moved)), np_(danet_loss("softmax")(targets, v)), rtol=1e-5)
