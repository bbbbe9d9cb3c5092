"""Name tables behind every family's `get` / `serialize` / `deserialize` (activations, losses,
optimizers, initializers, regularizers, metrics): one rule for resolving a name and one wording for
an unknown one, which always lists the valid names.

Names are matched case-insensitively ("MSE", "mse" and "Adam", "adam" are the same); class names
are accepted as names too. A configuration dict is `{"class_name": ..., "config": {...}}`, with the
exact class name, as Keras writes it.
"""
from __future__ import annotations


class Registry:
    """The names of one family. `family` words the errors ("optimizer", "metric", ...)."""

    def __init__(self, family: str, hint: str = ""):
        self.family = family
        self.hint = hint
        self._by_key: dict = {}
        self._listed: set = set()
        self._classes: dict = {}

    def register(self, target, *names, listed=True):
        """Registers `target` (a class, a kind name, a function) under `names`; a class also under
        its own name, for configs. `listed` names appear in the error for an unknown name."""
        if isinstance(target, type):
            self._classes.setdefault(target.__name__, target)
            self._by_key.setdefault(target.__name__.lower(), target)
        for name in names:
            if name is None:
                continue
            self._by_key.setdefault(name.lower(), target)
            if listed:
                self._listed.add(name)
        return target

    def names(self) -> list:
        """The names listed in errors, sorted."""
        return sorted(self._listed)

    def find(self, name):
        """The target registered under `name`, or None."""
        return self._by_key.get(name.lower()) if isinstance(name, str) else None

    def lookup(self, name, argument=None):
        """The target registered under `name`; a ValueError naming the valid names otherwise."""
        target = self.find(name)
        if target is None:
            raise ValueError(f"{argument or self.family}: unknown name {name!r}; valid names are: "
                             f"{', '.join(self.names())}.{self.hint}")
        return target

    def class_named(self, class_name, argument=None):
        """The class of a configuration's exact `class_name`."""
        cls = self._classes.get(class_name) if isinstance(class_name, str) else None
        if cls is None:
            raise ValueError(f"{argument or self.family}: unknown class {class_name!r}; valid classes are: "
                             f"{', '.join(sorted(self._classes))}")
        return cls

    def deserialize(self, config, argument=None):
        """An instance from `{"class_name": ..., "config": {...}}` through the class's from_config."""
        argument = argument or self.family
        if not isinstance(config, dict):
            raise TypeError(f"{argument}: expected a dict {{'class_name': ..., 'config': {{...}}}}, got "
                            f"{type(config).__name__}")
        cls = self.class_named(config.get("class_name"), argument)
        # Without a "config" key, the other keys are the configuration.
        inner = config.get("config", {k: v for k, v in config.items() if k != "class_name"})
        if inner is None:
            inner = {}
        if not isinstance(inner, dict):
            raise TypeError(f"{argument}: expected 'config' to be a dict, got {type(inner).__name__}")
        return cls.from_config(dict(inner))

    @staticmethod
    def serialize(obj) -> dict:
        return {"class_name": type(obj).__name__, "config": obj.get_config()}

    # Mapping reads, for code that asks whether a name is known.
    def __contains__(self, name):
        return self.find(name) is not None

    def __getitem__(self, name):
        target = self.find(name)
        if target is None:
            raise KeyError(name)
        return target

    def get(self, name, default=None):
        target = self.find(name)
        return default if target is None else target
