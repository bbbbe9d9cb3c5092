"""scikit-learn's own estimator checks on fastnn's scikit-learn estimators, with no expected failure.

Each estimator runs every check of parametrize_with_checks. The instances use scikit-learn's own
test settings for its MLPs (max_iter=100) and cover the three solvers (Adam, L-BFGS, SGD with
Nesterov momentum); fastnn's own optimizer and activation names go through the same code and are
tested in test_sklearn_mlp.py. Each check's fits are small: the whole file takes seconds.
"""
import pytest

pytest.importorskip("sklearn", minversion="1.6")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastnn  # noqa: E402
from fastnn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from fastnn.wrappers import SKLearnClassifier, SKLearnRegressor  # noqa: E402


def build_model(X, y, hidden=(16,), loss="categorical_crossentropy", output="softmax"):
    """A model function for the wrappers: its input and output widths come from the data."""
    model = fastnn.Sequential([fastnn.layers.Input(shape=(X.shape[1],))]
                              + [fastnn.layers.Dense(u, activation="relu") for u in hidden]
                              + [fastnn.layers.Dense(y.shape[1], activation=output)])
    model.compile(optimizer=fastnn.optimizers.Adam(0.01), loss=loss)
    return model


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """scipy's L-BFGS-B does its vector work through BLAS; on tiny problems BLAS threads only wait on
    each other (tens of times slower on a busy machine, for scikit-learn's own MLP as well)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        yield


ESTIMATORS = [
    MLPClassifier(max_iter=100, random_state=0),
    MLPClassifier(solver="lbfgs", max_iter=100, random_state=0),
    MLPRegressor(max_iter=100, random_state=0),
    MLPRegressor(solver="sgd", activation="tanh", max_iter=100, random_state=0),
    SKLearnClassifier(build_model, fit_kwargs={"epochs": 30}, random_state=0),
    SKLearnRegressor(build_model, model_kwargs={"loss": "mse", "output": "linear"}, fit_kwargs={"epochs": 30},
                     random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
