"""Initializers given the array forms tf.keras tutorials write."""
import numpy as np
import pytest


def test_constant_initializer_takes_a_one_element_array():
    # tf.keras tutorials write Constant(np.log([pos / neg])) for an output bias
    from fastnn import initializers, keras
    c = initializers.Constant(np.log([0.25]))
    assert c.value == pytest.approx(np.log(0.25))
    m = keras.Sequential([keras.layers.Dense(1, input_shape=(3,), bias_initializer=c)])
    np.testing.assert_allclose(m.layers[-1].get_weights()[1], [np.log(0.25)], rtol=1e-6)
    with pytest.raises(ValueError, match="Constant: value must be one number"):
        initializers.Constant([1.0, 2.0])
