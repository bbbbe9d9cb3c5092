"""fastnn.sklearn's MLPs against scikit-learn's own, and in scikit-learn's workflows.

scikit-learn is the reference: with one random_state both start from the same weights and walk the
data in the same order, so their trajectories must agree to rounding (float64), and their scores on
scikit-learn's bundled data sets must match.
"""
import io
import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", minversion="1.6")

import joblib  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastnn  # noqa: E402
from fastnn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """scipy's L-BFGS-B does its vector work through BLAS; on tiny problems BLAS threads only wait on
    each other (tens of times slower on a busy machine, for scikit-learn's own MLP as well)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        yield


def _digits(n=600):
    X, y = datasets.load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


def _assert_same_fit(a, b, rtol=1e-9, atol=1e-12):
    assert a.n_iter_ == b.n_iter_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=atol)
    np.testing.assert_allclose(a.loss_, b.loss_, rtol=1e-10)
    if hasattr(b, "loss_curve_"):
        np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)


# ------------------------------------------------------------------------------ trajectories
@pytest.mark.parametrize("params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    dict(solver="sgd", nesterovs_momentum=False, momentum=0.5, learning_rate_init=0.05, batch_size=64),
    dict(solver="adam", activation="tanh", alpha=0.01, batch_size=100, shuffle=False),
    dict(solver="lbfgs", activation="logistic"),
    dict(solver="adam", early_stopping=True, validation_fraction=0.2),
])
def test_classifier_follows_sklearn(params):
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(24, 12), random_state=3, max_iter=8, **params)
    ours, ref = MLPClassifier(**kw).fit(X, y), SkClassifier(**kw).fit(X, y)
    _assert_same_fit(ours, ref, rtol=1e-7 if params["solver"] == "lbfgs" else 1e-9)
    assert ours.out_activation_ == ref.out_activation_ == "softmax"
    for name in ("n_layers_", "n_outputs_", "t_", "best_loss_", "validation_scores_", "best_validation_score_"):
        assert (getattr(ours, name, "absent") == getattr(ref, name, "absent")) or \
            np.allclose(getattr(ours, name), getattr(ref, name), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-7, atol=1e-10)
    assert ours.predict_proba(X).dtype == np.float64


@pytest.mark.parametrize("target", ["binary", "multilabel"])
def test_logistic_outputs_follow_sklearn(target):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if target == "multilabel":
        y = np.stack([y, (X[:, 0] > 0).astype(int), (X[:, 1] > 0.5).astype(int)], axis=1)
    kw = dict(hidden_layer_sizes=(16,), random_state=0, max_iter=6)
    ours, ref = MLPClassifier(**kw).fit(X, y), SkClassifier(**kw).fit(X, y)
    _assert_same_fit(ours, ref)
    assert ours.out_activation_ == "logistic"
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_follows_sklearn(solver):
    X, y = datasets.load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    kw = dict(hidden_layer_sizes=(20,), random_state=1, max_iter=10, solver=solver, learning_rate_init=0.01)
    ours, ref = MLPRegressor(**kw).fit(X, y), SkRegressor(**kw).fit(X, y)
    _assert_same_fit(ours, ref, rtol=1e-7 if solver == "lbfgs" else 1e-9)
    assert ours.out_activation_ == "identity"
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-7, atol=1e-10)


def test_regressor_several_outputs_reports_sklearns_loss():
    X, y = datasets.load_diabetes(return_X_y=True)
    Y = np.stack([y, -0.5 * y], axis=1) / 100.0
    kw = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=5)
    ours, ref = MLPRegressor(**kw).fit(X, Y), SkRegressor(**kw).fit(X, Y)
    _assert_same_fit(ours, ref)     # the same gradient (summed over outputs), the same loss_ (averaged)


def test_sample_weights_follow_sklearn():
    X, y = _digits(300)
    sw = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(float)
    for solver in ("adam", "lbfgs"):
        kw = dict(hidden_layer_sizes=(16,), random_state=0, max_iter=5, solver=solver)
        _assert_same_fit(MLPClassifier(**kw).fit(X, y, sample_weight=sw),
                         SkClassifier(**kw).fit(X, y, sample_weight=sw), rtol=1e-7)


# ------------------------------------------------------------------------------ scores
@pytest.mark.parametrize("name, solver", [("digits", "adam"), ("iris", "lbfgs"), ("breast_cancer", "adam"),
                                          ("diabetes", "lbfgs")])
def test_comparable_scores_on_bundled_data(name, solver):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    regression = name == "diabetes"
    if regression:
        y = (y - y.mean()) / y.std()
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    Ours, Ref = (MLPRegressor, SkRegressor) if regression else (MLPClassifier, SkClassifier)
    kw = dict(hidden_layer_sizes=(32,), solver=solver, random_state=0, max_iter=60,
              alpha=3.0 if regression else 1e-3)
    ours, ref = Ours(**kw).fit(Xtr, ytr).score(Xte, yte), Ref(**kw).fit(Xtr, ytr).score(Xte, yte)
    assert ours == pytest.approx(ref, abs=0.02)
    assert ours > (0.2 if regression else 0.85)


# ------------------------------------------------------------------------------ sample weights
def test_integer_weights_equal_repeated_rows_full_batch():
    X, y = _digits(150)
    sw = np.random.default_rng(1).integers(0, 3, size=len(y))
    keep = np.repeat(np.arange(len(y)), sw)
    for solver in ("lbfgs", "sgd"):
        kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=15, batch_size=1000,
                  shuffle=False)
        a = MLPClassifier(**kw).fit(X, y, sample_weight=sw)
        b = MLPClassifier(**kw).fit(X[keep], y[keep])
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-9)


def test_zero_weight_equals_removed_row_regressor():
    X, y = datasets.load_diabetes(return_X_y=True)
    X, y = X[:120], (y[:120] - 150) / 80
    sw = np.ones(len(y))
    sw[::7] = 0
    kw = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, max_iter=30)
    a = MLPRegressor(**kw).fit(X, y, sample_weight=sw)
    b = MLPRegressor(**kw).fit(X[sw > 0], y[sw > 0])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------ determinism
def test_thread_count_never_changes_the_fit(restore_threads):
    X, y = _digits(400)
    fits = []
    for threads in (1, 2):
        fastnn.set_num_threads(threads)
        fits.append(MLPClassifier(hidden_layer_sizes=(64,), random_state=0, max_iter=4).fit(X, y))
    for p, q in zip(fits[0].coefs_ + fits[0].intercepts_, fits[1].coefs_ + fits[1].intercepts_):
        np.testing.assert_array_equal(p, q)


def test_fit_does_not_touch_fastnn_global_seed():
    fastnn.utils.set_random_seed(5)
    a = fastnn.Sequential([fastnn.layers.Input(shape=(3,)), fastnn.layers.Dense(2)]).get_weights()
    fastnn.utils.set_random_seed(5)
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(*_digits(50))
    b = fastnn.Sequential([fastnn.layers.Input(shape=(3,)), fastnn.layers.Dense(2)]).get_weights()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


# ------------------------------------------------------------------------------ workflows
def test_pipeline_grid_search_and_cross_val_on_digits():
    X, y = _digits(500)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.6
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__solver": ["adam", "lbfgs"]},
                        cv=2, n_jobs=2).fit(X, y)
    assert grid.best_score_ > 0.6
    assert set(grid.cv_results_["param_mlpclassifier__solver"]) == {"adam", "lbfgs"}


def test_clone_pickle_joblib_round_trips():
    X, y = _digits(300)
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X, y)
    fresh = clone(est)
    assert not hasattr(fresh, "coefs_") and fresh.get_params() == est.get_params()
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    loaded = joblib.load(buf)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    # training resumes from the pickled optimizer state exactly as without the round trip
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for p, q in zip(est.coefs_, loaded.coefs_):
        np.testing.assert_array_equal(p, q)


def test_partial_fit_matches_sklearn_and_needs_classes():
    X, y = _digits(300)
    ours, ref = MLPClassifier(hidden_layer_sizes=(8,), random_state=0), SkClassifier(hidden_layer_sizes=(8,),
                                                                                     random_state=0)
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier().partial_fit(X, y)
    for _ in range(3):
        ours.partial_fit(X, y, classes=np.arange(10))
        ref.partial_fit(X, y, classes=np.arange(10))
    _assert_same_fit(ours, ref)
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPClassifier(solver="lbfgs").partial_fit


def test_fastnn_names_and_convergence_rules():
    X, y = _digits(300)
    for solver, activation in (("nadam", "silu"), ("rmsprop", "elu")):
        est = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, activation=activation, random_state=0,
                            learning_rate_init=0.01, max_iter=40).fit(X, y)
        assert est.score(X, y) > 0.9
    with pytest.warns(ConvergenceWarning):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)     # stops on tol before max_iter
        kw = dict(hidden_layer_sizes=(16,), tol=0.5, n_iter_no_change=2, random_state=0)
        est = MLPClassifier(**kw).fit(X, y)
    assert est.n_iter_ == 4 == len(est.loss_curve_) == SkClassifier(**kw).fit(X, y).n_iter_
    with pytest.raises(ValueError, match="activation"):
        MLPClassifier(activation="sigmoidal").fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        MLPClassifier(solver="newton").fit(X, y)
    lb = MLPClassifier(solver="lbfgs", max_iter=5, random_state=0).fit(X, y)
    assert not hasattr(lb, "loss_curve_") and lb.n_iter_ == 5


def test_sparse_input_equals_dense():
    sp = pytest.importorskip("scipy.sparse")
    X, y = _digits(200)
    kw = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=3)
    a, b = MLPClassifier(**kw).fit(X, y), MLPClassifier(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(sp.csr_matrix(X)))
