"""Fuzzing the public API with hypothesis: random shapes, dtypes and values (NaN, inf, huge,
denormal), random arguments, random call orders, hostile file headers.

Per case, acceptable outcomes are success, or ValueError / TypeError / RuntimeError /
NotImplementedError with a message. Anything else fails (hypothesis shrinks it and prints it). A crash
(the process dying of a signal) or a hang cannot be caught in-process, so each target runs in ONE
worker process — this file run as a script — which writes every case to a side file before running
it; when the worker dies, the test reports the case it was running.

    FASTNN_FUZZ_EXAMPLES   examples per target (default: a bounded number per target that keeps the whole
                           file near 30 s on 2 cores; e.g. 5000 for a long local run)
    FASTNN_FUZZ_SEED       fixes hypothesis's seed (default: a new one per run, printed on failure)
"""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import zlib

ALLOWED = (ValueError, TypeError, RuntimeError, NotImplementedError)
TARGETS = ("inputs", "arguments", "call_orders", "threads", "files", "mutations", "numeric")


# =================================================================================================
# the worker (runs in its own process)
# =================================================================================================
def _worker(target, n_examples, seed, case_path):
    import faulthandler
    import warnings

    faulthandler.enable()  # a native crash also prints the Python stack of the case to stderr
    if target == "_crash":  # self-test of the crash report (test_crash_is_reported)
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with open(case_path, "w") as f:
            f.write("self-test case: the worker kills itself")
        faulthandler.disable()
        os.kill(os.getpid(), signal.SIGSEGV)

    import numpy as np
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    import fastnn
    from fastnn import layers, saving

    warnings.simplefilter("ignore")  # RuntimeWarnings about NaN losses etc. are expected here
    fastnn.set_num_threads(2)
    case_file = open(case_path, "w")
    stats = {"cases": 0, "ok": 0, "errors": 0}

    def record(desc):
        case_file.seek(0)
        case_file.write(desc[:20000])
        case_file.truncate()
        case_file.flush()

    def outcome(fn):
        """Runs fn; returns 'ok' or the error; raises AssertionError for an unacceptable outcome."""
        try:
            fn()
        except ALLOWED as e:
            assert str(e).strip(), f"{type(e).__name__} without a message"
            stats["errors"] += 1
            return e
        stats["ok"] += 1
        return "ok"

    # ---------------------------------------------------------------------------- strategies
    special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-310, -1e-310, 1e-45, 5e-324, 1e-38, 3.4e38, -3.4e38,
                               1e38, 1e300, -1e300, float("nan"), float("inf"), float("-inf")])
    floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), special,
                       st.floats(-10, 10), st.floats(-10, 10))
    real_dtypes = st.sampled_from(["float32", "float64", "float16", "int8", "int64", "uint8", "uint64", "bool"])
    bad_dtypes = st.sampled_from(["complex64", "object", "<U3", "datetime64[s]"])

    any_dtype = st.one_of(real_dtypes, real_dtypes, real_dtypes, bad_dtypes)

    @st.composite  # decorated once: hypothesis inspects a composite's source when it is created
    def _array(draw, shape, dtype):
        d = draw(dtype)
        shp = draw(shape)
        base = draw(hnp.arrays(np.float64, shp, elements=floats))
        with np.errstate(all="ignore"):
            if d in ("object", "<U3"):
                return base.astype(d)
            if d == "datetime64[s]":
                return np.zeros(shp, dtype=d)
            if np.dtype(d).kind in "iub":
                return np.nan_to_num(base, nan=0, posinf=0, neginf=0).clip(-100, 100).astype(d)
            return base.astype(d)

    def arrays(shape, dtype=None):
        return _array(st.just(shape) if isinstance(shape, tuple) else shape,
                      any_dtype if dtype is None else dtype)

    small_shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)
    garbage = st.sampled_from([None, -1, 0, 1, 2, 7, 1.5, -0.5, float("nan"), float("inf"), 1e308, 10**30, True,
                               False, "x", "", [], [1], {}, (1, 2), "relu", "mse", "adam", "auto"])
    act_names = st.sampled_from(["relu", "sigmoid", "softmax", "tanh", "linear", "gelu", "selu", "elu", "swish",
                                 "softplus", "leaky_relu", "relu6", "exponential", "log_softmax", "hard_sigmoid",
                                 "mish", "softsign", None])
    loss_names = st.sampled_from(["mse", "mae", "mape", "msle", "huber", "log_cosh", "binary_crossentropy",
                                  "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge",
                                  "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
                                  "cosine_similarity"])
    opt_names = st.sampled_from(["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion"])

    @st.composite
    def models(draw):
        d_in = draw(st.integers(1, 6))
        dtype = draw(st.sampled_from(["float32", "float64"]))
        stack = [layers.Input(shape=(d_in,))]
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["dense", "dense", "dropout", "bn", "ln", "act"]))
            if kind == "dense":
                stack.append(layers.Dense(draw(st.integers(1, 12)), activation=draw(act_names)))
            elif kind == "dropout":
                stack.append(layers.Dropout(draw(st.sampled_from([0.0, 0.3, 0.9]))))
            elif kind == "bn":
                stack.append(layers.BatchNormalization())
            elif kind == "ln":
                stack.append(layers.LayerNormalization())
            else:
                stack.append(layers.Activation(draw(act_names)))
        stack.append(layers.Dense(draw(st.integers(1, 5)), activation=draw(act_names)))
        m = fastnn.Sequential(stack, dtype=dtype)
        return m, d_in

    # ---------------------------------------------------------------------------- targets
    settings_ = settings(max_examples=n_examples, deadline=None, database=None, print_blob=True,
                         suppress_health_check=list(HealthCheck), derandomize=False,
                         phases=[Phase.generate, Phase.target, Phase.shrink])

    def run(test):
        test = hyp_seed(seed)(settings_(test))
        test()

    if target == "inputs":
        @given(models(), st.data())
        def test(mk, data):
            m, d_in = mk
            loss = data.draw(loss_names)
            n = data.draw(st.integers(0, 9))
            x = data.draw(st.one_of(arrays(st.just((n, d_in))), arrays(small_shape),
                                    arrays(st.just((n, d_in)), real_dtypes)))
            y = data.draw(st.one_of(arrays(st.sampled_from([(n,), (n, 1), (n, 2), (n, 5), (n + 1,)])),
                                    arrays(st.just((n,)), st.just("int64")), st.just(None)))
            sw = data.draw(st.one_of(st.none(), arrays(st.sampled_from([(n,), (n, 1), (2,)]), real_dtypes)))
            bs = data.draw(st.one_of(st.none(), st.integers(-2, 12), st.just(10**12), garbage))
            call = data.draw(st.sampled_from(["fit", "evaluate", "predict", "train_on_batch", "test_on_batch",
                                              "predict_on_batch", "call", "call_training", "manual"]))
            record(f"inputs: model={m.get_config()!r}\nloss={loss} call={call} batch_size={bs!r}\n"
                   f"x={x!r} dtype={getattr(x, 'dtype', None)}\ny={y!r}\nsample_weight={sw!r}")
            stats["cases"] += 1
            outcome(lambda: m.compile(optimizer=data.draw(opt_names), loss=loss))
            kw = {} if bs is None else {"batch_size": bs}

            def go():
                if call == "fit":
                    m.fit(x, y, epochs=2, sample_weight=sw, verbose=0, **kw)
                elif call == "evaluate":
                    m.evaluate(x, y, sample_weight=sw, verbose=0, **kw)
                elif call == "predict":
                    m.predict(x, verbose=0, **kw)
                elif call == "train_on_batch":
                    m.train_on_batch(x, y, sample_weight=sw)
                elif call == "test_on_batch":
                    m.test_on_batch(x, y, sample_weight=sw)
                elif call == "predict_on_batch":
                    m.predict_on_batch(x)
                elif call in ("call", "call_training"):
                    m(x, training=call == "call_training")
                else:
                    out = m(x, training=True)
                    lv = m.loss(y, out, sample_weight=sw)
                    lv.backward()
                    m.optimizer.step()
            outcome(go)
            if m.built:  # whatever happened, the model still answers
                outcome(lambda: m.predict(np.zeros((2, d_in)), verbose=0))
        run(test)

    elif target == "arguments":
        garbage_epochs = garbage.filter(lambda v: not (isinstance(v, int) and v > 100))
        arg_names = ["units", "activation", "use_bias", "kernel_initializer", "kernel_regularizer", "rate",
                     "momentum", "epsilon", "ln_epsilon", "learning_rate", "clipnorm", "clipvalue",
                     "global_clipnorm", "weight_decay", "from_logits", "label_smoothing", "delta", "metrics",
                     "loss_weights", "epochs", "batch_size", "validation_split", "shuffle", "initial_epoch",
                     "steps_per_epoch"]

        @given(st.data(), st.sets(st.sampled_from(arg_names), max_size=2))
        def test(data, corrupt):
            desc = [f"corrupted={sorted(corrupt)}"]

            def pick(name, good):
                bad = garbage_epochs if name == "epochs" else garbage  # 10**30 epochs is not a hang, only work
                v = data.draw(st.one_of(good, bad) if name in corrupt else good, label=name)
                desc.append(f"{name}={v!r}")
                record("arguments: " + ", ".join(desc))
                return v

            stats["cases"] += 1

            def go():
                dense = layers.Dense(pick("units", st.integers(1, 8)), activation=pick("activation", act_names),
                                     use_bias=pick("use_bias", st.booleans()),
                                     kernel_initializer=pick("kernel_initializer", st.sampled_from(
                                         ["glorot_uniform", "he_normal", "orthogonal", "zeros", "lecun_normal",
                                          "identity", "random_normal", "truncated_normal", "constant"])),
                                     kernel_regularizer=pick("kernel_regularizer", st.sampled_from(
                                         [None, "l1", "l2", "l1_l2"])))
                extra = []
                kind = data.draw(st.sampled_from(["dropout", "bn", "ln", "none"]))
                if kind == "dropout":
                    extra.append(layers.Dropout(pick("rate", st.floats(0, 0.99))))
                elif kind == "bn":
                    extra.append(layers.BatchNormalization(momentum=pick("momentum", st.floats(0, 1)),
                                                           epsilon=pick("epsilon", st.floats(1e-9, 1))))
                elif kind == "ln":
                    extra.append(layers.LayerNormalization(epsilon=pick("ln_epsilon", st.floats(1e-9, 1))))
                opt_cls = getattr(fastnn.optimizers, data.draw(st.sampled_from(
                    ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"])))
                okw = {"learning_rate": pick("learning_rate", st.floats(0, 1))}
                clip = data.draw(st.sampled_from([None, "clipnorm", "clipvalue", "global_clipnorm"]))
                if clip is not None:
                    okw[clip] = pick(clip, st.floats(0.01, 10))
                if data.draw(st.booleans()):
                    okw["weight_decay"] = pick("weight_decay", st.floats(0, 0.1))
                opt = opt_cls(**okw)
                loss_cls = data.draw(st.sampled_from(["BinaryCrossentropy", "CategoricalCrossentropy", "Huber",
                                                      "MeanSquaredError", "SparseCategoricalCrossentropy"]))
                lkw = {}
                if loss_cls in ("BinaryCrossentropy", "CategoricalCrossentropy"):
                    lkw = {"from_logits": pick("from_logits", st.booleans()),
                           "label_smoothing": pick("label_smoothing", st.floats(0, 1))}
                elif loss_cls == "Huber":
                    lkw = {"delta": pick("delta", st.floats(0.01, 10))}
                loss = getattr(fastnn.losses, loss_cls)(**lkw)
                m = fastnn.Sequential([layers.Input(shape=(3,)), dense, *extra, layers.Dense(2, activation="softmax")])
                m.compile(optimizer=opt, loss=loss, metrics=pick("metrics", st.sampled_from(
                    [[], ["accuracy"], ["mae", "auc"], ["precision"], None])),
                    loss_weights=pick("loss_weights", st.floats(0, 2)))
                x = np.random.default_rng(0).random((12, 3))
                y = np.arange(12) % 2 if loss_cls == "SparseCategoricalCrossentropy" else np.eye(2)[np.arange(12) % 2]
                m.fit(x, y, epochs=pick("epochs", st.integers(0, 2)), batch_size=pick("batch_size", st.integers(1, 16)),
                      validation_split=pick("validation_split", st.sampled_from([0.0, 0.25, 0.5])),
                      shuffle=pick("shuffle", st.sampled_from([True, False, "batch"])),
                      initial_epoch=pick("initial_epoch", st.integers(0, 2)),
                      steps_per_epoch=pick("steps_per_epoch", st.one_of(st.none(), st.integers(1, 3))),
                      verbose=0)
                m.evaluate(x, y, verbose=0)
                m.predict(x, verbose=0)

            record("arguments: (none drawn yet)")
            outcome(go)
        run(test)

    elif target == "call_orders":
        ops = st.sampled_from(["compile", "compile_bad", "fit", "predict", "evaluate", "save_load", "get_set_weights",
                               "set_nan_weights", "toggle_trainable", "pop", "add", "lr", "manual", "threads",
                               "build", "summary", "pickle", "train_on_batch", "reset_metrics", "load_weights",
                               "forward", "loss", "backward", "step", "zero_grad", "loss_sum", "transform_loss",
                               "load_model", "fit_callback_pop", "fit_callback_set"])

        @given(models(), st.lists(ops, min_size=1, max_size=10), st.data())
        def test(mk, seq, data):
            import pickle

            m, d_in = mk
            stats["cases"] += 1
            done = []
            x = np.random.default_rng(1).random((16, d_in))
            held = {}  # the manual loop's values carried from one operation to the next
            for op in seq:
                done.append(op)
                record(f"call_orders: model={m.get_config()!r}\nops={done!r}")

                def go(op=op):
                    out_dim = m.output_shape[-1] if m.built and m.output_shape else 1
                    y = np.random.default_rng(2).integers(0, max(out_dim, 1), 16)
                    if op == "compile":
                        m.compile(optimizer=data.draw(opt_names), loss=data.draw(loss_names),
                                  metrics=data.draw(st.sampled_from([[], ["accuracy"], ["mse"]])))
                    elif op == "compile_bad":
                        m.compile(optimizer=data.draw(garbage), loss=data.draw(garbage))
                    elif op == "fit":
                        m.fit(x, y, epochs=1, batch_size=data.draw(st.integers(1, 20)), verbose=0)
                    elif op == "predict":
                        m.predict(x, verbose=0)
                    elif op == "evaluate":
                        m.evaluate(x, y, verbose=0)
                    elif op == "save_load":
                        buf = saving.to_bytes(m)
                        saving.from_bytes(buf)
                    elif op == "get_set_weights":
                        m.set_weights([w * 0.5 for w in m.get_weights()])
                    elif op == "set_nan_weights":
                        m.set_weights([np.full_like(w, np.nan) for w in m.get_weights()])
                    elif op == "toggle_trainable":
                        for layer in m.layers:
                            layer.trainable = not layer.trainable
                    elif op == "pop":
                        m.pop()
                    elif op == "add":
                        m.add(layers.Dense(data.draw(st.integers(1, 4)), activation=data.draw(act_names)))
                    elif op == "lr":
                        if m.optimizer is not None:
                            m.optimizer.learning_rate = data.draw(st.one_of(st.floats(0, 1), garbage))
                    elif op == "manual":
                        out = m(x, training=True)
                        if m.compiled:
                            m.loss(y, out).backward()
                            m.optimizer.step()
                    elif op == "threads":
                        fastnn.set_num_threads(data.draw(st.one_of(st.integers(1, 4), garbage)))
                    elif op == "build":
                        m.build((None, d_in))
                    elif op == "summary":
                        m.summary(print_fn=lambda s: None)
                    elif op == "pickle":
                        pickle.loads(pickle.dumps(m))
                    elif op == "train_on_batch":
                        m.train_on_batch(x, y)
                    elif op == "reset_metrics":
                        m.reset_metrics()
                    elif op == "load_weights":
                        path = os.path.join(os.path.dirname(case_path), "w.fastnn")
                        m.save_weights(path)
                        m.load_weights(path)
                    elif op == "load_model":
                        path = os.path.join(os.path.dirname(case_path), "m.fastnn")
                        m.save(path)
                        back = fastnn.models.load_model(path)
                        back.predict(x, verbose=0)
                    elif op == "forward":
                        held["out"] = m(x, training=data.draw(st.booleans()))
                    elif op in ("loss", "loss_sum", "transform_loss"):
                        out = held.get("out")
                        if out is None:
                            out = m(x)
                        if op == "transform_loss":
                            out = 1 - out
                        lv = m.loss(y, out)
                        held["loss"] = lv + m.loss(y, out) if op == "loss_sum" else lv
                    elif op == "backward":
                        lv = held.get("loss")
                        if lv is None:
                            raise ValueError("fuzz: no loss yet")
                        lv.backward(retain_graph=data.draw(st.booleans()))
                    elif op == "step":
                        if m.optimizer is None:
                            raise ValueError("fuzz: not compiled")
                        m.optimizer.step()
                    elif op == "zero_grad":
                        if m.optimizer is None:
                            raise ValueError("fuzz: not compiled")
                        m.optimizer.zero_grad()
                    elif op in ("fit_callback_pop", "fit_callback_set"):
                        class Meddle(fastnn.callbacks.Callback):
                            def on_train_batch_end(self, batch, logs=None):
                                if op == "fit_callback_pop":
                                    self.model.pop()
                                else:
                                    self.model.set_weights(self.model.get_weights())
                        m.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Meddle()])
                outcome(go)
            fastnn.set_num_threads(2)
        run(test)

    elif target == "threads":
        import threading

        thread_ops = ["fit", "predict", "evaluate", "get_weights", "set_weights", "to_bytes", "pickle", "compile",
                      "add", "pop", "train_on_batch", "manual", "summary", "spec", "deepcopy", "lr", "trainable"]

        @given(models(), st.lists(st.lists(st.sampled_from(thread_ops), min_size=1, max_size=6), min_size=2,
                                  max_size=4), st.integers(0, 2**32))
        def test(mk, plans, rseed):
            import copy
            import pickle
            import random

            m, d_in = mk
            stats["cases"] += 1
            record(f"threads: model={m.get_config()!r}\nplans={plans!r}")
            outcome(lambda: m.compile(optimizer="adam", loss="mse"))
            x = np.random.default_rng(1).random((32, d_in))
            bad = []

            def one(op, rnd):
                out_dim = m.output_shape[-1] if m.built and m.output_shape else 1
                y = np.random.default_rng(2).random((32, out_dim))
                if op == "fit":
                    m.fit(x, y, epochs=1, batch_size=4, verbose=0)
                elif op == "predict":
                    m.predict(x, verbose=0)
                elif op == "evaluate":
                    m.evaluate(x, y, verbose=0)
                elif op == "get_weights":
                    m.get_weights()
                elif op == "set_weights":
                    m.set_weights([w * 0.5 for w in m.get_weights()])
                elif op == "to_bytes":
                    saving.from_bytes(saving.to_bytes(m))
                elif op == "pickle":
                    pickle.loads(pickle.dumps(m))
                elif op == "deepcopy":
                    copy.deepcopy(m)
                elif op == "compile":
                    m.compile(optimizer=rnd.choice(["sgd", "adam"]), loss="mse")
                elif op == "add":
                    m.add(layers.Dense(rnd.randint(1, 4)))
                elif op == "pop":
                    m.pop()
                elif op == "train_on_batch":
                    m.train_on_batch(x, y)
                elif op == "manual":
                    out = m(x, training=True)
                    m.loss(y, out).backward()
                    m.optimizer.step()
                elif op == "summary":
                    m.summary(print_fn=lambda s: None)
                elif op == "spec":
                    m.spec()
                elif op == "lr":
                    m.optimizer.learning_rate = rnd.random()
                elif op == "trainable":
                    m.trainable = not m.trainable

            def worker(k, plan):
                rnd = random.Random(rseed + k)  # each thread its own stream: hypothesis draws from one thread only
                for op in plan:
                    try:
                        outcome(lambda: one(op, rnd))
                    except BaseException:  # noqa: BLE001 - reported by the main thread
                        import traceback

                        bad.append(f"{op}: {traceback.format_exc()[-2500:]}")

            threads = [threading.Thread(target=worker, args=(k, p), daemon=True) for k, p in enumerate(plans)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
                assert not t.is_alive(), f"a thread hung (plans={plans!r})"
            assert not bad, bad
            if m.built:  # whatever happened, the model still answers
                outcome(lambda: m.predict(np.zeros((2, d_in)), verbose=0))
        run(test)

    elif target == "mutations":
        # Hostile files grown from valid ones: several kinds of model (optimizer state, float64,
        # normalization, weights-only files, a version-1 file), then byte flips, truncations, header
        # field edits and size fields changed, most with the checksum recomputed so that the header
        # parser and the array checks are reached, not only the checksum.
        import glob

        def base_files():
            out = []
            for dtype, opt, extra in (("float32", "adam", layers.BatchNormalization()),
                                      ("float64", "rmsprop", layers.LayerNormalization()),
                                      ("float32", "sgd", layers.Dropout(0.5))):
                bm = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="relu"), extra,
                                        layers.Dense(2, activation="softmax")], dtype=dtype, seed=1)
                bm.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
                bm.fit(np.random.default_rng(0).random((8, 3)), np.arange(8) % 2, epochs=1, verbose=0)
                out.append(("model", saving.to_bytes(bm)))
                path = os.path.join(os.path.dirname(case_path), "base.weights")
                bm.save_weights(path)
                with open(path, "rb") as f:
                    out.append(("weights", f.read()))
            here = os.path.dirname(os.path.abspath(__file__))
            for v1 in sorted(glob.glob(os.path.join(here, "..", "saving", "data", "*.fastnn"))):
                with open(v1, "rb") as f:
                    b = f.read()
                out.append(("weights" if b[:8] == saving.MAGIC_WEIGHTS else "model", b))
            return out

        bases = base_files()
        assert len(bases) == 8, f"expected 6 generated and 2 version-1 base files, got {len(bases)}"

        def split(b):
            hlen = struct.unpack("<Q", b[12:20])[0]
            return b[:8], struct.unpack("<I", b[8:12])[0], json.loads(b[20:20 + hlen]), b[20 + hlen:-4]

        def join(magic, version, header, payload, hb=None):
            hb = json.dumps(header).encode() if hb is None else hb
            body = magic + struct.pack("<IQ", version, len(hb)) + hb + payload
            return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)

        def recrc(b):
            b = bytes(b[:-4]) if len(b) >= 4 else bytes(b)
            return b + struct.pack("<I", zlib.crc32(b) & 0xFFFFFFFF)

        huge = st.sampled_from([0, 1, -1, 2**31, 2**32 + 1, 2**40, 2**63, 2**64 + 3, 10**30, 3, 7, 1.5, None, "4"])

        @given(st.integers(0, len(bases) - 1),
               st.sampled_from(["flip", "flip_crc", "cut", "cut_crc", "hlen", "version", "shape", "nbytes", "offset",
                                "dims", "units", "layers_dup", "array_dup", "array_drop", "dtype", "payload_grow"]),
               st.lists(st.integers(0, 2**31), min_size=1, max_size=6), st.integers(1, 255), huge)
        def test(which, mode, positions, flip, value):
            kind, good = bases[which]
            stats["cases"] += 1
            magic, version, header, payload = split(good)
            table = header.get("arrays", [])
            pick = positions[0]
            if mode in ("flip", "flip_crc"):
                b = bytearray(good)
                for p in positions:
                    b[p % len(b)] ^= flip
                data = recrc(b) if mode == "flip_crc" else bytes(b)
            elif mode in ("cut", "cut_crc"):
                b = good[:pick % (len(good) + 1)]
                data = recrc(b) if mode == "cut_crc" and len(b) > 24 else b
            elif mode == "hlen":
                hb = json.dumps(header).encode()
                body = magic + struct.pack("<I", version) + struct.pack("<Q", (len(hb) + (value if isinstance(
                    value, int) and value is not None else 1)) % 2**64) + hb + payload
                data = body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
            elif mode == "version":
                data = join(magic, pick % 5, header, payload)
            elif mode in ("shape", "nbytes", "offset", "dtype") and table:
                e = table[pick % len(table)]
                if mode == "shape":
                    e["shape"] = [value] + e["shape"][1:] if e["shape"] else [value]
                elif mode == "nbytes":
                    e["nbytes"] = value
                elif mode == "offset":
                    e["offset"] = value
                else:
                    e["dtype"] = ["float16", "float64", "float32", "int64", "object"][pick % 5]
                data = join(magic, version, header, payload)
            elif mode in ("dims", "units") and isinstance(header.get("spec"), dict):
                ls = header["spec"]["layers"]
                if mode == "dims" or not ls:
                    header["spec"]["input_shape"] = [value]
                else:
                    layer = ls[pick % len(ls)]
                    layer["config"]["units"] = value
                    layer["output_shape"] = [value]
                data = join(magic, version, header, payload)
            elif mode == "layers_dup" and isinstance(header.get("spec"), dict) and header["spec"]["layers"]:
                ls = header["spec"]["layers"]
                ls.extend([dict(ls[pick % len(ls)])] * (1 + pick % 3000))
                data = join(magic, version, header, payload)
            elif mode == "array_dup" and table:
                table.append(dict(table[pick % len(table)]))
                data = join(magic, version, header, payload)
            elif mode == "array_drop" and table:
                table.pop(pick % len(table))
                data = join(magic, version, header, payload)
            elif mode == "payload_grow":
                data = join(magic, version, header, payload + b"\x00" * (pick % 4096))
            else:
                data = good
            record(f"mutations: base={which} ({kind}) mode={mode} positions={positions} flip={flip} value={value!r}\n"
                   f"bytes={len(data)}")

            def go():
                try:
                    if kind == "model":
                        mm = saving.from_bytes(data)
                        mm.predict(np.zeros((2, 3)), verbose=0)
                    else:
                        path = os.path.join(os.path.dirname(case_path), "mut.weights")
                        with open(path, "wb") as f:
                            f.write(data)
                        target = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(4), layers.Dropout(0.5),
                                                    layers.Dense(2)])
                        target.load_weights(path)
                except (saving.FileFormatError, ValueError):
                    raise
                except BaseException as e:
                    raise AssertionError(f"load raised {type(e).__name__}, not FileFormatError: {e}") from e
            outcome(go)
        run(test)

    elif target == "files":
        base = fastnn.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="relu"),
                                  layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
        base.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        good = saving.to_bytes(base)
        hlen = struct.unpack("<Q", good[12:20])[0]
        header = json.loads(good[20:20 + hlen])
        payload = good[20 + hlen:-4]
        json_values = st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                      st.text(max_size=8), st.sampled_from(["os.system", "Dense", "float32", "object", "<U10",
                                                            "__import__", "eval", "relu", "InputLayer"])),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
            max_leaves=12)

        def paths(node, prefix=()):
            yield prefix
            if isinstance(node, dict):
                for k, v in node.items():
                    yield from paths(v, prefix + (k,))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    yield from paths(v, prefix + (i,))

        all_paths = [p for p in paths(header) if p]

        @given(st.lists(st.tuples(st.sampled_from(all_paths), json_values, st.booleans()), min_size=1, max_size=4),
               st.sampled_from(["json", "raw_cut", "raw_flip"]), st.integers(0, 10**6), st.integers(1, 255))
        def test(changes, mode, pos, flip):
            import copy

            stats["cases"] += 1
            if mode == "json":
                h = copy.deepcopy(header)
                for path, value, delete in changes:
                    node = h
                    try:
                        for p in path[:-1]:
                            node = node[p]
                        if delete and isinstance(node, dict):
                            node.pop(path[-1], None)
                        else:
                            node[path[-1]] = value
                    except (KeyError, IndexError, TypeError):
                        pass
                hb = json.dumps(h).encode()
                body = saving.MAGIC_MODEL + struct.pack("<IQ", saving.FORMAT_VERSION, len(hb)) + hb + payload
                data = body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
            elif mode == "raw_cut":
                data = good[:pos % (len(good) + 1)]
            else:
                b = bytearray(good)
                b[pos % len(b)] ^= flip
                data = bytes(b)
            record(f"files: mode={mode} changes={changes!r} pos={pos} flip={flip}")

            def go():
                try:
                    m = saving.from_bytes(data)
                except saving.FileFormatError:
                    raise
                except BaseException as e:
                    raise AssertionError(f"load raised {type(e).__name__}, not FileFormatError: {e}") from e
                m.predict(np.zeros((2, 3)), verbose=0)
            outcome(go)
        run(test)

    elif target == "numeric":
        fns = st.sampled_from(["relu", "sigmoid", "softmax", "tanh", "gelu", "selu", "elu", "softplus", "mish",
                               "log_softmax", "exponential", "hard_silu", "leaky_relu", "silu"])
        losses_ = st.sampled_from(["mse", "mae", "mape", "msle", "huber", "log_cosh", "binary_crossentropy",
                                   "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge",
                                   "kl_divergence", "poisson", "cosine_similarity", "categorical_hinge"])

        @given(fns, losses_, arrays(small_shape), arrays(small_shape), st.one_of(st.none(), arrays(small_shape)),
               st.sampled_from(["activation", "loss", "initializer", "to_categorical", "gemm"]),
               st.lists(st.integers(0, 6), min_size=1, max_size=3))
        def test(fn, loss, a, b, w, what, shape):
            record(f"numeric: what={what} fn={fn} loss={loss} shape={shape}\na={a!r} {a.dtype}\nb={b!r} {b.dtype}\nw={w!r}")
            stats["cases"] += 1

            def go():
                if what == "activation":
                    getattr(fastnn.activations, fn)(a)
                elif what == "loss":
                    fastnn.losses.get(loss)(b, a, sample_weight=w)
                elif what == "initializer":
                    fastnn.initializers.get(data_init[len(shape) % len(data_init)])(tuple(shape))
                elif what == "to_categorical":
                    fastnn.utils.to_categorical(a, num_classes=shape[0] or None)
                else:
                    from fastnn import _core
                    _core.gemm(np.atleast_2d(a).astype(np.float32), np.atleast_2d(b).astype(np.float32))
            outcome(go)
        data_init = ["glorot_uniform", "orthogonal", "identity", "he_normal", "zeros"]
        run(test)
    else:
        raise SystemExit(f"unknown target {target}")
    print("FUZZ " + json.dumps(stats), flush=True)


# =================================================================================================
# the pytest side
# =================================================================================================
class _Worker:
    """One target's worker process, started in the background."""

    def __init__(self, target, folder, n, seed):
        import fastnn

        self.target, self.n, self.seed = target, n, seed
        self.case = folder / f"{target}.case"
        self.out = open(folder / f"{target}.out", "w+")
        self.err = open(folder / f"{target}.err", "w+")
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        env["FASTNN_NUM_THREADS"] = "2"
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), target, str(n), str(seed),
                                      str(self.case)], stdout=self.out, stderr=self.err, env=env)

    def result(self):
        import pytest

        timeout = 180 + self.n * 0.5
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"fuzz worker '{self.target}' hung (> {timeout:.0f} s); FASTNN_FUZZ_SEED={self.seed} "
                        f"replays it; last case:\n{self._last()}\n{self._tail(self.err)}")
        out, err = self._tail(self.out, 6000), self._tail(self.err, 6000)
        if code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in {s.value for s in signal.Signals} else str(sig)
            pytest.fail(f"fuzz worker '{self.target}' CRASHED with {name} (FASTNN_FUZZ_SEED={self.seed} replays "
                        f"it) on this case:\n{self._last()}\n--- stderr ---\n{err}")
        # (a sanitizer build reports a crash itself and exits with status 1: the case is shown too)
        assert code == 0, (f"fuzz target '{self.target}' found a failure (FASTNN_FUZZ_SEED={self.seed} replays "
                           f"it):\n{out}\n{err}\n--- last case run ---\n{self._last()}")
        line = [ln for ln in out.splitlines() if ln.startswith("FUZZ ")]
        assert line, out + err
        stats = json.loads(line[-1][5:])
        print(f"fuzz {self.target}: {stats} (seed {self.seed})")
        return stats

    def _last(self):
        return self.case.read_text() if self.case.exists() else "?"

    @staticmethod
    def _tail(f, n=3000):
        f.flush()
        f.seek(0)
        return f.read()[-n:]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()


def _selected_targets(session):
    here = os.path.abspath(__file__)
    names = {getattr(item, "originalname", item.name) for item in session.items
             if os.path.abspath(str(getattr(item, "path", getattr(item, "fspath", "")))) == here}
    return [t for t in TARGETS if f"test_fuzz_{t}" in names]


def _fixture():
    import pytest

    @pytest.fixture(scope="module")
    def fuzz_workers(request, tmp_path_factory):
        """Starts the worker of every selected target at once (they run side by side), so the module
        takes about the time of the slowest target rather than of all of them."""
        seed = int(os.environ.get("FASTNN_FUZZ_SEED", "") or int.from_bytes(os.urandom(4), "little"))
        folder = tmp_path_factory.mktemp("fuzz")
        workers = {t: _Worker(t, folder, _examples(t), seed) for t in _selected_targets(request.session)}
        yield workers
        for w in workers.values():
            w.close()

    return fuzz_workers


# Examples per target when FASTNN_FUZZ_EXAMPLES is not set: the targets run side by side, and these
# keep the whole file near 30 s on 2 cores (the slow targets train or start threads per example).
_DEFAULT_EXAMPLES = {"inputs": 150, "arguments": 100, "call_orders": 60, "threads": 25, "files": 150,
                     "mutations": 150, "numeric": 200}


def _examples(target=None):
    raw = os.environ.get("FASTNN_FUZZ_EXAMPLES", "")
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            pass
    return _DEFAULT_EXAMPLES.get(target, 100)


def _make_test(target):
    def test(fuzz_workers):
        w = fuzz_workers[target]
        stats = w.result()
        assert stats["cases"] >= min(w.n, 50) * 0.5, stats  # hypothesis really ran the cases
        # Both outcomes were exercised, where the inputs decide them. In the several-thread target a
        # refusal depends on how the threads interleave, and in the mutation target whether a mutated
        # file still loads depends on which bytes changed (refusing every one is correct), so a short
        # run may see only one outcome; an exception of a kind fastnn does not promise still fails the
        # case in the worker.
        if target not in ("threads", "mutations"):
            assert stats["ok"] > 0 and stats["errors"] > 0, stats
    test.__name__ = f"test_fuzz_{target}"
    return test


def test_crash_is_reported(tmp_path):
    """The harness itself: a worker dying of a signal fails the test with the case it was running."""
    import pytest

    w = _Worker("_crash", tmp_path, 1, 0)
    try:
        # a plain build: death by SIGSEGV; under AddressSanitizer: its SEGV report and exit status 1
        with pytest.raises((pytest.fail.Exception, AssertionError),
                           match=r"(?s)(CRASHED with SIGSEGV|AddressSanitizer: SEGV).*self-test case"):
            w.result()
    finally:
        w.close()


if __name__ != "__main__":
    fuzz_workers = _fixture()
    for _t in TARGETS:
        globals()[f"test_fuzz_{_t}"] = _make_test(_t)
    del _t


if __name__ == "__main__":
    _target, _n, _seed, _case = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    _worker(_target, _n, _seed, _case)
