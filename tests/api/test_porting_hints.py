"""What PyTorch and Keras 2 habits meet: optimizer argument names with a hint, plot_model as text."""
import pytest

import fastnn as fn
from fastnn.keras import utils as kutils


@pytest.mark.parametrize("cls", [fn.optimizers.Adam, fn.optimizers.SGD, fn.optimizers.RMSprop])
def test_lr_is_refused_with_the_keras_name(cls):
    with pytest.raises(TypeError, match=r"unexpected arguments \['lr'\].*did you mean lr= -> learning_rate"):
        cls(lr=0.01)


def test_torch_adam_names_get_hints():
    with pytest.raises(TypeError, match=r"betas= -> beta_1, beta_2.*eps= -> epsilon"):
        fn.optimizers.Adam(betas=(0.9, 0.99), eps=1e-8)


def test_unrelated_unknown_arguments_get_no_hint():
    with pytest.raises(TypeError) as e:
        fn.optimizers.Adam(bogus=1)
    assert "did you mean" not in str(e.value)


def _model():
    m = fn.Sequential([fn.layers.Input(shape=(8,)), fn.layers.Dense(4, activation="relu", name="hidden"),
                       fn.layers.Dense(1, activation="sigmoid", name="out")])
    return m


def test_plot_model_draws_the_chain_as_text(tmp_path):
    text = kutils.plot_model(_model(), show_shapes=True, show_layer_activations=True)
    assert text.index("hidden (Dense)") < text.index("out (Dense)")
    assert "output (None, 4)" in text and "output (None, 1)" in text and "activation relu" in text
    path = tmp_path / "model.txt"
    assert kutils.plot_model(_model(), to_file=str(path)) == path.read_text()


def test_plot_model_to_an_image_name_writes_text_beside_it(tmp_path):
    path = tmp_path / "model.png"
    with pytest.warns(UserWarning, match="as text"):
        kutils.plot_model(_model(), to_file=str(path))
    assert not path.exists() and (tmp_path / "model.png.txt").read_text().startswith("+")


def test_plot_model_needs_a_built_model():
    with pytest.raises(ValueError, match="not built"):
        kutils.plot_model(fn.Sequential([fn.layers.Dense(2)]))
