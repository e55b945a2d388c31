"""The customer and staff stimuli a device model declares (``kiosk act NAME ARGS``, a scenario's
``act`` step): each action's name, help and arguments, the form each argument must take, and
what is wrong with a call that does not fit, in the words of a usage line.

A declaration is read once, when its device class is made (:class:`ActionSpec`). Checking a call
against it costs nothing on a call that works: :meth:`devices.base.Device.act` asks the spec only
after the handler failed, and a scenario asks it for each ``act`` step when the file loads.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from workbench.errors import DeviceError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Arg(Generic[T]):
    """The form one argument of an action takes: in words, as a usage line ends (``a whole
    number``), and the parse that reads the text, raising ValueError or DeviceError when the text
    is not of that form. A handler reads its argument with this same parse, so what a scenario's
    check accepts is what the action accepts."""

    form: str
    parse: Callable[[str], T]

    def refuses(self, text: str) -> bool:
        """Whether ``text`` is not of this form."""
        try:
            self.parse(text)
        except (ValueError, DeviceError):
            return True
        return False


WHOLE_NUMBER: Arg[int] = Arg("a whole number", int)
"""An argument read with ``int()``: ``20``, ``-3``, not ``20.5`` or ``abc``."""


def _face(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"{value} is not a face value")
    return value


FACE_VALUE: Arg[int] = Arg("a face value, a whole number above 0", _face)
"""A banknote's face value: ``20``; not ``0``, ``-20`` or ``abc`` (a value the unit does not
know, ``7``, is still a note a customer can offer: the validator rejects it)."""

F = TypeVar("F", bound=Callable[..., str])

_DECLARED: dict[Callable[..., str], tuple[str, str, dict[str, Arg[Any]]]] = {}
"""Methods declared with :func:`action`: the action's name, its help and its arguments' forms."""


def action(name: str, help: str, **forms: Arg[Any]) -> Callable[[F], F]:
    """Declare a device method as the customer or staff stimulus ``name`` (``kiosk act NAME
    ARGS``, the scenarios' ``act``): its parameters after ``self`` are the action's arguments
    (strings from the command line), ``forms`` the form some of them must take (by parameter
    name); it returns what happened as a person would say it."""

    def declare(method: F) -> F:
        _DECLARED[method] = (name, help, forms)
        return method

    return declare


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One declared action of a device class: its name, the method that runs it, its help, and
    its arguments (names, how many are required, the form of each)."""

    name: str
    attr: str
    """The device method's attribute name."""
    help: str
    params: tuple[str, ...]
    required: int
    variadic: bool
    """The last parameter takes any number of arguments (``*names``)."""
    forms: tuple[Arg[Any] | None, ...]
    """The form of each parameter's arguments, None where any text will do."""

    @classmethod
    def declared(cls, attr: str, method: Any) -> ActionSpec | None:
        """The spec of a class attribute declared with :func:`action` (None for any other). A
        form naming no parameter, or a parameter an action cannot take from a command line, is
        a TypeError when the class is made."""
        if not callable(method) or method not in _DECLARED:
            return None
        name, help, forms = _DECLARED[method]
        params = list(inspect.signature(method).parameters.values())[1:]
        where = f"{method.__qualname__} (action {name!r})"
        if unknown := set(forms) - {p.name for p in params}:
            raise TypeError(
                f"{where} declares a form for {', '.join(sorted(unknown))}: no parameter"
            )
        if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params):
            raise TypeError(f"{where} has a parameter a command line cannot give")
        return cls(
            name=name,
            attr=attr,
            help=help,
            params=tuple(p.name for p in params),
            required=sum(
                p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD for p in params
            ),
            variadic=bool(params) and params[-1].kind is params[-1].VAR_POSITIONAL,
            forms=tuple(forms.get(p.name) for p in params),
        )

    @property
    def args(self) -> str:
        """The arguments as a usage line shows them: ``VALUE``, ``[TRACK2]``, ``X Y``."""
        words = [p.upper() for p in self.params]
        for i in range(self.required, len(words)):
            words[i] = (
                f"[{words[i]}...]" if self.variadic and i == len(words) - 1 else f"[{words[i]}]"
            )
        return " ".join(words)

    def wrong(self, args: Sequence[Any]) -> str | None:
        """None when ``args`` fit this action, else what is wrong, as ``kiosk act`` and a
        scenario's ``act`` step say it: ``touch takes X Y; given: none``, ``insert-note takes
        VALUE, a whole number; given: abc``."""
        given = " ".join(map(str, args)) or "none"
        n = len(args)
        if n < self.required or (n > len(self.params) and not self.variadic):
            return f"{self.name} takes {self.args or 'no arguments'}; given: {given}"
        for i, text in enumerate(args):
            form = self.forms[min(i, len(self.forms) - 1)]
            if form is not None and form.refuses(str(text)):
                return f"{self.name} takes {self.args}, {self._form_words(i, form)}; given: {given}"
        return None

    def _form_words(self, i: int, form: Arg[Any]) -> str:
        if len(self.params) == 1:
            return form.form
        if all(f == form for f in self.forms):
            return f"each {form.form}"
        return f"{self.params[min(i, len(self.params) - 1)].upper()} {form.form}"
