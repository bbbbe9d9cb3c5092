"""History: the per-epoch logs that ``fit`` returns.
"""

from __future__ import annotations

from .callback import Callback, _public_items



class History(Callback):
    """Records the epoch logs; ``fit`` returns this object.

    fit() always adds one and sets it as ``model.history``. Keys starting with ``"_"`` are not
    recorded.

    Attributes
    ----------
    history : dict of str to list
        Maps each log name (``"loss"``, ``"val_accuracy"``, ...) to its list of per-epoch values.
    epoch : list of int
        The 0-based epoch indices seen, in order.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in _public_items(logs):
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass

    def plot(self, path=None, metrics=None, figsize=None):
        """Plots each logged value per epoch, one panel per name (training and validation together).

        A panel holds a value and its validation counterpart (``loss`` and ``val_loss``,
        ``accuracy`` and ``val_accuracy``, ...). A fastnn addition: Keras's History has no plot.
        Needs matplotlib (an optional dependency); without it ImportError is raised.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Where to write the figure as PNG (written atomically); None writes nothing.
        metrics : str or list of str, optional
            Names to plot (without ``val_``); all by default, ``loss`` first. A name that was not
            logged raises ValueError listing those that were.
        figsize : tuple of (float, float), optional
            matplotlib's (width, height) in inches; by default 5 x 3.5 per panel.

        Returns
        -------
        matplotlib.figure.Figure
            The figure (made without pyplot, so no window opens and the caller's
            backend is left alone). An empty history raises ValueError instead.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("History.plot needs the 'matplotlib' package (pip install matplotlib)") from None
        names = [k for k in self.history if not k.startswith("val_")]
        names += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in names]
        order = list(names)
        names = sorted(order, key=lambda k: (k != "loss", order.index(k)))
        if metrics is not None:
            metrics = [metrics] if isinstance(metrics, str) else list(metrics)
            unknown = [m for m in metrics if m not in names]
            if unknown:
                raise ValueError(f"plot: metrics {unknown} were not logged; logged: {names}")
            names = metrics
        if not names:
            raise ValueError("plot: the history is empty (fit() has not run an epoch)")
        fig = Figure(figsize=figsize or (5 * len(names), 3.5), layout="constrained")
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        epochs = [e + 1 for e in self.epoch] if self.epoch else None
        for ax, name in zip(axes, names):
            for key, label in ((name, "training"), ("val_" + name, "validation")):
                values = self.history.get(key)
                if values:
                    x = epochs if epochs is not None and len(epochs) == len(values) else range(1, len(values) + 1)
                    ax.plot(list(x), values, marker="o", markersize=3, label=label)
            ax.set_title(name)
            ax.set_xlabel("epoch")
            ax.grid(True, alpha=0.3)
            ax.legend()
        if path is not None:
            import io

            from ..saving import _write_atomic

            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            _write_atomic(path, buf.getvalue(), True)
        return fig
