"""One rank of the data-parallel tests of fastnn.sklearn's estimators (run under mpiexec, by
torch.distributed's test, or alone).

    python sklearn_job.py OUT.npz --comm mpi|torch|local [--fail-rank R]

Runs a handful of small fits under DataParallel (both estimators; adam and sgd with momentum and
Nesterov momentum; shuffling, sample weights, early stopping on a validation split, the tol /
n_iter_no_change stop with the adaptive schedule, warm_start, partial_fit, random_state=None) and
writes every fitted attribute that must agree (rank 0 writes OUT; other ranks OUT.rankR).
--fail-rank R: rank R raises inside its first fit, after the first epoch.
"""
import argparse
import sys

import fastnn
import numpy as np
from fastnn.distributed import DataParallel
from fastnn.sklearn import MLPClassifier, MLPRegressor


class _Failing(MLPClassifier):
    def _update_no_improvement_count(self, *args, **kwargs):
        raise RuntimeError(f"rank {self.fail_rank} failed on purpose")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(230, 12))
    labels = (X[:, :3].sum(1) > 0).astype(np.int64) + (X[:, 3] > 0.5)
    targets = np.column_stack([X[:, :4].sum(1), np.tanh(X[:, 4] - X[:, 5])])
    sw = rng.uniform(0.5, 2.0, size=230)
    return X, labels, targets, sw


def _attrs(prefix, est, X, out):
    for i, (c, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        out[f"{prefix}_coef{i}"] = c
        out[f"{prefix}_intercept{i}"] = b
    out[f"{prefix}_loss_curve"] = np.array(est.loss_curve_)
    out[f"{prefix}_n_iter"] = np.array(est.n_iter_)
    out[f"{prefix}_t"] = np.array(est.t_)
    out[f"{prefix}_loss"] = np.array(est.loss_)
    if est.best_loss_ is not None:
        out[f"{prefix}_best_loss"] = np.array(est.best_loss_)
    if est.validation_scores_ is not None:
        out[f"{prefix}_val_scores"] = np.array(est.validation_scores_)
        out[f"{prefix}_best_val"] = np.array(est.best_validation_score_)
    pred = est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)
    out[f"{prefix}_pred"] = pred


def train(dp, fail_rank=-1):
    """Every fit's fitted attributes (a dict of arrays) under `dp`."""
    rank = dp.communicator.rank
    X, labels, targets, sw = _data()
    out = {}
    common = dict(hidden_layer_sizes=(16,), batch_size=40, random_state=3)

    cls = _Failing if rank == fail_rank else MLPClassifier
    clf = cls(solver="adam", learning_rate_init=0.01, max_iter=30, early_stopping=True,
              validation_fraction=0.2, n_iter_no_change=3, tol=0.01, **common)
    clf.fail_rank = fail_rank
    clf.fit(X, labels, sample_weight=sw, distribution=dp)
    _attrs("adam_es", clf, X, out)

    clf = MLPClassifier(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05, momentum=0.9,
                        nesterovs_momentum=True, max_iter=12, tol=0.5, n_iter_no_change=2, **common)
    clf.fit(X, labels, distribution=dp)
    _attrs("sgd_nesterov", clf, X, out)
    out["sgd_nesterov_rate"] = np.array(clf._optimizer.learning_rate)    # lowered by "adaptive"

    reg = MLPRegressor(solver="sgd", learning_rate="invscaling", learning_rate_init=0.02, momentum=0.8,
                       nesterovs_momentum=False, max_iter=4, warm_start=True, **common)
    reg.fit(X, targets, sample_weight=sw, distribution=dp)
    reg.set_params(max_iter=3)
    reg.fit(X, targets, sample_weight=sw, distribution=dp)       # continues from the first fit
    _attrs("sgd_warm", reg, X, out)

    reg = MLPRegressor(solver="adam", learning_rate_init=0.01, shuffle=False, **common)
    for _ in range(3):
        reg.partial_fit(X, targets[:, 0], distribution=dp)
    _attrs("adam_partial", reg, X, out)

    # random_state=None draws from the global generator, which differs between the ranks here:
    # every rank must use rank 0's numbers (the test seeds one process's generator like rank 0's).
    np.random.seed(100 + rank)
    clf = MLPClassifier(solver="adam", hidden_layer_sizes=(8,), batch_size=64, max_iter=10, tol=1.0,
                        n_iter_no_change=1)     # stops on the training loss after 2 epochs
    with dp:                                                       # the scope, not the argument
        clf.fit(X, labels)
    _attrs("global_rng", clf, X, out)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--comm", default=None)
    p.add_argument("--fail-rank", type=int, default=-1)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    fastnn.set_num_threads(a.threads)
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    warnings.simplefilter("ignore", ConvergenceWarning)
    dp = DataParallel(a.comm, shard_rows=16, timeout=a.timeout)
    arrays = train(dp, a.fail_rank)
    rank = dp.communicator.rank
    np.savez(a.out if rank == 0 else f"{a.out}.rank{rank}.npz", **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
