"""The customer and staff stimuli a device model declares (``kiosk act NAME ARGS``, a scenario's
``act`` step): each action's name, help and arguments, the form each argument must take (and
what the device's settings allow of it: a touch on its screen, a note its validator knows), and
what is wrong with a call that does not fit, in the words of a usage line.

A declaration is read once, when its device class is made (:class:`ActionSpec`). Checking a call
against it costs nothing on a call that works: :meth:`devices.base.Device.act` asks the spec only
after the handler failed, and a scenario asks it for each ``act`` step when the file loads,
against the settings of its profile's device.
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
    allows: Callable[[T, Any], str | None] | None = None
    """What a device's settings allow of a value of this form: None when they allow ``value``,
    else the form narrowed to them, in words that end a usage line (``a column of the 1920x1080
    screen, 0 to 1919``). None for a form any device takes whole."""
    otherwise: str = ""
    """What to write instead when a value is of the form but not one the settings allow, said
    after the usage line with ``{given}`` the value given (``to offer a note the unit does not
    know on purpose, write 'insert-unknown-note {given}'``); empty for none."""

    def refuses(self, text: str) -> bool:
        """Whether ``text`` is not of this form."""
        try:
            self.parse(text)
        except (ValueError, DeviceError):
            return True
        return False

    def narrowed(self, text: str, settings: Any) -> str | None:
        """None when ``text`` (of this form) is a value ``settings`` allow, else the form they
        allow, in words."""
        if self.allows is None:
            return None
        return self.allows(self.parse(text), settings)


WHOLE_NUMBER: Arg[int] = Arg("a whole number", int)
"""An argument read with ``int()``: ``20``, ``-3``, not ``20.5`` or ``abc``."""


def _face(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"{value} is not a face value")
    return value


def _known_note(value: int, settings: Any) -> str | None:
    known: list[int] = settings.denominations
    if value in known:
        return None
    return f"a face value the unit knows ({', '.join(map(str, known))} {settings.country})"


def _unknown_note(value: int, settings: Any) -> str | None:
    known: list[int] = settings.denominations
    if value not in known:
        return None
    return (
        f"a face value the unit does not know (it knows {', '.join(map(str, known))} "
        f"{settings.country}: offer those with insert-note)"
    )


_FACE_WORDS = "a face value, a whole number above 0"

FACE_VALUE: Arg[int] = Arg(_FACE_WORDS, _face, _known_note)
"""A banknote's face value: ``20``; not ``0``, ``-20`` or ``abc``, and one the unit knows (its
settings' ``denominations``) for a scenario's step (the counterfeit's face value)."""

KNOWN_NOTE: Arg[int] = Arg(
    _FACE_WORDS,
    _face,
    _known_note,
    otherwise="to offer a note the unit does not know on purpose, write "
    "'insert-unknown-note {given}'",
)
"""The face value of a genuine note a customer offers (``insert-note``): a value the unit does
not know (``7``) is still one a customer can offer at ``kiosk act`` (the validator rejects it),
but a scenario's step offering one is refused, a typo far more often than a lesson, with how to
write it on purpose (``insert-unknown-note``)."""

UNKNOWN_NOTE: Arg[int] = Arg(_FACE_WORDS, _face, _unknown_note)
"""The face value of a note the unit does not know (``insert-unknown-note 7``: a foreign note, a
withdrawn series), offered on purpose: a value the unit knows is refused, by ``kiosk act`` and
by a scenario's check alike (that note is ``insert-note``)."""

F = TypeVar("F", bound=Callable[..., str])

_DECLARED: dict[Callable[..., str], tuple[str, str, str | None, dict[str, Arg[Any]]]] = {}
"""Methods declared with :func:`action`: the action's name, its help, the device method its
device says it would not take it now with, and its arguments' forms."""


def action(
    name: str, help: str, /, *, waits_on: str | None = None, **forms: Arg[Any]
) -> Callable[[F], F]:
    """Declare a device method as the customer or staff stimulus ``name`` (``kiosk act NAME
    ARGS``, the scenarios' ``act``): its parameters after ``self`` are the action's arguments
    (strings from the command line), ``forms`` the form some of them must take (by parameter
    name); it returns what happened as a person would say it. ``waits_on`` names the device
    method (no arguments) that says why the device would not take the stimulus now, in the
    words the action would say it (``validator disabled``), or None when it would: a stimulus
    a device takes only in some states (a note, only while the host has the validator enabled
    and its path is free), which a scenario's step may wait for (``wait_up_to``)."""

    def declare(method: F) -> F:
        _DECLARED[method] = (name, help, waits_on, forms)
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
    waits_on: str | None = None
    """The device method saying why the device would not take the action now (None: the
    device takes it in any state)."""

    @classmethod
    def declared(cls, attr: str, method: Any) -> ActionSpec | None:
        """The spec of a class attribute declared with :func:`action` (None for any other). A
        form naming no parameter, or a parameter an action cannot take from a command line, is
        a TypeError when the class is made."""
        if not callable(method) or method not in _DECLARED:
            return None
        name, help, waits_on, forms = _DECLARED[method]
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
            waits_on=waits_on,
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

    def wrong(self, args: Sequence[Any], settings: Any = None) -> str | None:
        """None when ``args`` fit this action, else what is wrong, as ``kiosk act`` and a
        scenario's ``act`` step say it: ``touch takes X Y; given: none``, ``insert-note takes
        VALUE, a whole number; given: abc``. With the device's ``settings``, each value is also
        one they allow: ``touch takes X Y, X a column of the 1920x1080 screen, 0 to 1919;
        given: 5000 10``."""
        given = " ".join(map(str, args)) or "none"
        n = len(args)
        if n < self.required or (n > len(self.params) and not self.variadic):
            return f"{self.name} takes {self.args or 'no arguments'}; given: {given}"
        for i, text in enumerate(args):
            form = self._form_of(i)
            if form is not None and form.refuses(str(text)):
                return f"{self.name} takes {self.args}, {self._form_words(i, form.form)}; given: {given}"
        if settings is None:
            return None
        for i, text in enumerate(args):
            form = self._form_of(i)
            if form is not None and (allowed := form.narrowed(str(text), settings)) is not None:
                named = allowed if len(self.params) == 1 else f"{self._param(i)} {allowed}"
                aside = f" ({form.otherwise.format(given=text)})" if form.otherwise else ""
                return f"{self.name} takes {self.args}, {named}; given: {given}{aside}"
        return None

    def _form_of(self, i: int) -> Arg[Any] | None:
        return self.forms[min(i, len(self.forms) - 1)]

    def _param(self, i: int) -> str:
        return self.params[min(i, len(self.params) - 1)].upper()

    def _form_words(self, i: int, words: str) -> str:
        if len(self.params) == 1:
            return words
        if all(f is not None and f.form == words for f in self.forms):
            return f"each {words}"
        return f"{self._param(i)} {words}"
