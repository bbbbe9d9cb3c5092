"""Exporting fastnn models for serving stacks (Keras 3's Model.export). ONNX is the one format."""
from __future__ import annotations

FORMATS = ("onnx",)


def export_model(model, filepath, format="onnx", **kwargs):
    """Writes `model` to `filepath` in `format`; see fastnn.export.onnx.export_onnx for the options."""
    if format != "onnx":
        raise ValueError(f"format: expected one of {list(FORMATS)}, got {format!r}")
    from .onnx import export_onnx

    return export_onnx(model, filepath, **kwargs)


__all__ = ["export_model", "FORMATS"]
