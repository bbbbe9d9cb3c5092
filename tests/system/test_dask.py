"""fastnn.dask.predict on a two-worker LocalCluster equals model.predict bitwise, for dask arrays and
DataFrames; fastnn.sklearn estimators under dask_ml's ParallelPostFit."""
import fastnn
import numpy as np
import pytest

dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'fastnn[dask]')")
da = pytest.importorskip("dask.array", reason="dask.array is not installed")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def model_and_data():
    m = fastnn.Sequential([fastnn.layers.Input((5,)), fastnn.layers.Dense(9, activation="tanh"),
                           fastnn.layers.Dense(3, activation="softmax")], seed=2)
    X = np.random.default_rng(0).normal(size=(1003, 5)).astype(np.float32)
    return m, X, m.predict(X, verbose=0)


def test_without_client(model_and_data):
    # First in the file: no Client yet, so the model travels as one delayed object.
    m, X, ref = model_and_data
    assert np.array_equal(fastnn.dask.predict(m, da.from_array(X, chunks=300)).compute(), ref)


def test_dask_array(client, model_and_data):
    m, X, ref = model_and_data
    y = fastnn.dask.predict(m, da.from_array(X, chunks=(137, 2)))
    assert isinstance(y, da.Array) and y.shape == ref.shape and y.dtype == ref.dtype
    assert np.array_equal(y.compute(), ref)


def test_dask_dataframe(client, model_and_data):
    dd = pytest.importorskip("dask.dataframe", reason="dask.dataframe is not installed")
    pd = pytest.importorskip("pandas")
    m, X, ref = model_and_data
    df = dd.from_pandas(pd.DataFrame(X, columns=list("abcde")), npartitions=4)
    y = fastnn.dask.predict(m, df)
    assert isinstance(y, dd.DataFrame)
    out = y.compute()
    assert list(out.columns) == [0, 1, 2] and np.array_equal(out.to_numpy(), ref)


def test_bad_input(model_and_data):
    m, X, _ = model_and_data
    with pytest.raises(TypeError, match="X"):
        fastnn.dask.predict(m, X)
    with pytest.raises(ValueError, match="model"):
        fastnn.dask.predict(object(), da.from_array(X))
    with pytest.raises(ValueError, match="batch_size"):
        fastnn.dask.predict(m, da.from_array(X), batch_size=0)


def test_parallel_post_fit(client):
    wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is not installed")
    from fastnn.sklearn import MLPClassifier
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    est = wrappers.ParallelPostFit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0))
    est.fit(X, y)
    ref = est.estimator.predict_proba(X)
    got = est.predict_proba(da.from_array(X, chunks=70)).compute()
    assert np.array_equal(got, ref)
    assert np.array_equal(est.predict(da.from_array(X, chunks=70)).compute(), est.estimator.predict(X))
