# The compiled engine module (src/cpp/bindings, pybind11). Its functions and classes are not typed yet:
# this stub tells type checkers that the module exists and that its attributes are Any, instead of
# each `from . import _core` being reported as a missing attribute of the package.
from typing import Any

def __getattr__(name: str) -> Any: ...
