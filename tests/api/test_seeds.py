"""Per-model seeds: a model's initial weights, shuffling and dropout derive from its own seed, so
they never depend on what other models (in this thread or another) drew before or meanwhile."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import fastnn
from fastnn import _random, layers


def _make(seed, width=64):
    return fastnn.Sequential([layers.Input((16,)), layers.Dense(width, activation="relu"),
                              layers.BatchNormalization(gamma_initializer="random_normal"),
                              layers.Dense(width, kernel_initializer="orthogonal"), layers.Dropout(0.3),
                              layers.Dense(3)], seed=seed)


def test_concurrent_seeded_builds_equal_builds_alone():
    alone = {s: _make(s).get_weights() for s in (1, 2)}
    results = {}
    barrier = threading.Barrier(4)

    def build(s, k):
        barrier.wait()
        for _ in range(5):
            results[(s, k)] = _make(s).get_weights()
            fastnn.Sequential([layers.Input((16,)), layers.Dense(8)])   # unseeded draws in between

    threads = [threading.Thread(target=build, args=(s, k)) for s in (1, 2) for k in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for (s, _k), ws in results.items():
        for a, b in zip(ws, alone[s]):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(alone[1][0], alone[2][0])


def test_seeded_training_does_not_depend_on_the_global_stream():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 16)), rng.integers(0, 3, 64)
    out = []
    for global_seed in (0, 99):
        fastnn.utils.set_random_seed(global_seed)
        m = _make(5)
        m.compile("adam", "sparse_categorical_crossentropy")
        m.fit(x, y, epochs=2, batch_size=8, verbose=0)      # shuffling and dropout from the model's seed
        out.append(m.get_weights())
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_unseeded_models_follow_the_global_seed():
    fastnn.utils.set_random_seed(3)
    a = _make(None).get_weights()
    fastnn.utils.set_random_seed(3)
    b = _make(None).get_weights()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    c = _make(None).get_weights()
    assert not np.array_equal(a[0], c[0])


def test_an_initializer_seed_wins_and_the_seed_is_in_the_config():
    m = fastnn.Sequential([layers.Input((4,)), layers.Dense(3, kernel_initializer=fastnn.initializers.GlorotUniform(seed=1))],
                          seed=10)
    n = fastnn.Sequential([layers.Input((4,)), layers.Dense(3, kernel_initializer=fastnn.initializers.GlorotUniform(seed=1))],
                          seed=11)
    np.testing.assert_array_equal(m.get_weights()[0], n.get_weights()[0])
    assert m.seed == 10 and m.get_config()["seed"] == 10
    clone = fastnn.models.clone_model(m)
    for p, q in zip(clone.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)])
def test_bad_seeds_are_refused(bad, exc):
    with pytest.raises(exc, match="seed"):
        fastnn.Sequential([layers.Dense(2)], seed=bad)


def test_seed_words_never_mix_uint64_with_python_ints():
    """numpy 1.x refuses uint64_array >> int; the seed helpers stay in Python ints."""
    words = np.array([2**32 - 1, 2**32 - 1], dtype=np.uint32)
    assert _random._words_to_seed(words) == 2**63 - 1
    assert 0 <= _random.next_seed() < 2**63 and 0 <= _random.derive(2**63 - 1, 5, 7) < 2**63
