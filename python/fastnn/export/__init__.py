"""Exporting fastnn models for serving stacks (Keras 3's Model.export). ONNX is the one format."""
from __future__ import annotations

FORMATS = ("onnx",)


def export_model(model, filepath, format="onnx", **kwargs):
    """Writes `model` to `filepath` in `format` (Keras 3's Model.export, with ONNX as the format).

    Parameters
    ----------
    model : Model
        A built fastnn model.
    filepath : str or os.PathLike
        The file to write.
    format : {"onnx"}, default "onnx"
        The format; the only one is "onnx" (Keras's "tf_saved_model" and others raise ValueError).
    **kwargs
        Passed to fastnn.export.onnx.export_onnx (opset_version, overwrite).

    Returns
    -------
    onnx.ModelProto
        The exported graph, as export_onnx returns it.
    """
    if format != "onnx":
        raise ValueError(f"format: expected one of {list(FORMATS)}, got {format!r}")
    from .onnx import export_onnx

    return export_onnx(model, filepath, **kwargs)


__all__ = ["export_model", "FORMATS"]
