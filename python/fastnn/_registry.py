"""Name tables behind every family's `get` / `serialize` / `deserialize` (activations, losses,
optimizers, initializers, regularizers, metrics): one rule for resolving a name and one wording for
an unknown one, which always lists the valid names.

Names are matched case-insensitively ("MSE", "mse" and "Adam", "adam" are the same); class names
are accepted as names too. A configuration dict is `{"class_name": ..., "config": {...}}`, with the
exact class name, as Keras writes it.
"""
from __future__ import annotations


class Registry:
    """The names of one family (optimizers, losses, ...) and the classes its configs may name.

    Parameters
    ----------
    family : str
        What one member is called in errors ("optimizer", "metric", ...); also the argument name
        an error starts with when the caller gives none.
    hint : str, default ""
        Text appended to the error for an unknown name (a pointer to where the names are listed,
        for example); empty for none.
    """

    def __init__(self, family: str, hint: str = ""):
        self.family = family
        self.hint = hint
        self._by_key: dict = {}
        self._listed: set = set()
        self._classes: dict = {}

    def register(self, target, *names, listed=True):
        """Registers `target` under `names` (and a class also under its own name).

        A name already taken keeps its first target, so a family's canonical spelling can be
        registered before its aliases. A class is also entered under its exact `__name__`, which
        is what `class_named` and `deserialize` read.

        Parameters
        ----------
        target : type, str or callable
            What the names resolve to: a class, a native kind name, a function.
        *names : str or None
            The names to register, matched case-insensitively later; None entries are skipped.
        listed : bool, default True
            Whether `names` appear in the error for an unknown name (False for aliases that would
            only clutter the list); the class's own name is never listed.

        Returns
        -------
        type, str or callable
            `target` itself, so the method can decorate a class.
        """
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
        """The names listed in errors, sorted.

        Returns
        -------
        list of str
            The names registered with ``listed=True``, in their registered spelling.
        """
        return sorted(self._listed)

    def find(self, name):
        """The target registered under `name`, or None.

        Parameters
        ----------
        name : str
            A registered name or class name, in any case; a non-string finds nothing.

        Returns
        -------
        object or None
            The registered target, or None when `name` is unknown or not a string.
        """
        return self._by_key.get(name.lower()) if isinstance(name, str) else None

    def lookup(self, name, argument=None):
        """The target registered under `name`; a ValueError naming the valid names otherwise.

        Parameters
        ----------
        name : str
            A registered name or class name, in any case.
        argument : str, optional
            The argument name the error starts with (for example "loss"); the family's name when
            None.

        Returns
        -------
        object
            The registered target.
        """
        target = self.find(name)
        if target is None:
            raise ValueError(f"{argument or self.family}: unknown name {name!r}; valid names are: "
                             f"{', '.join(self.names())}.{self.hint}")
        return target

    def class_named(self, class_name, argument=None):
        """The class of a configuration's exact `class_name`.

        Unlike `lookup`, the match is exact (case-sensitive) and only classes count, as in the
        ``"class_name"`` field Keras writes.

        Parameters
        ----------
        class_name : str
            The class's `__name__`, for example "Adam". Anything else (an unknown or differently
            cased name, a non-string) raises ValueError listing the known classes.
        argument : str, optional
            The argument name the error starts with; the family's name when None.

        Returns
        -------
        type
            The registered class.
        """
        cls = self._classes.get(class_name) if isinstance(class_name, str) else None
        if cls is None:
            raise ValueError(f"{argument or self.family}: unknown class {class_name!r}; valid classes are: "
                             f"{', '.join(sorted(self._classes))}")
        return cls

    def deserialize(self, config, argument=None):
        """An instance from `{"class_name": ..., "config": {...}}` through the class's from_config.

        Parameters
        ----------
        config : dict
            ``{"class_name": ..., "config": {...}}``. Without a "config" key the other keys are the
            configuration; ``"config": None`` means no arguments. A `config` that is not a dict, or
            whose "config" is neither a dict nor None, raises TypeError; an unknown class name
            raises ValueError.
        argument : str, optional
            The argument name errors start with; the family's name when None.

        Returns
        -------
        object
            ``cls.from_config(inner_config)`` of the named class (given a copy of the inner dict).
        """
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
        """The Keras-style description of an object: its class name and its get_config().

        Parameters
        ----------
        obj : object
            An instance whose class has a `get_config` method.

        Returns
        -------
        dict
            ``{"class_name": type(obj).__name__, "config": obj.get_config()}``.
        """
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
        """The target registered under `name`, or `default` (dict.get's reading).

        Parameters
        ----------
        name : str
            A registered name or class name, in any case.
        default : object, default None
            What to return when `name` is unknown or not a string.

        Returns
        -------
        object
            The registered target, or `default`.
        """
        target = self.find(name)
        return default if target is None else target
