"""Settings syntax shared by every command: ``NAME:key=value,...`` and ``--kebab-name VALUE``.

Values are YAML scalars or flow lists (``0.9``, ``1e-3``, ``true``, ``[0.9,0.99]``, ``0.9,0.99``).
Keys are checked against the factory's own signature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from optviz.errors import BadValueError

# YAML 1.2's floats without a dot (1e-8, 5E3), which YAML 1.1 (PyYAML) reads as text.
_EXPONENT_FLOAT = r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"


def _with_exponent_floats(base: Any) -> Any:
    """A subclass of a PyYAML Loader or Dumper that also resolves ``1e-8`` as a float: the
    loader reads it as a number, the dumper quotes a string that looks like one."""
    import re

    cls = type(f"Number{base.__name__}", (base,), {})
    cls.add_implicit_resolver(  # copies the base's table; the base is untouched
        "tag:yaml.org,2002:float", re.compile(_EXPONENT_FLOAT), list("-+0123456789."))
    return cls


# What one YAML text may hold. A config is a few dozen lines; these stop hostile or broken
# ones in milliseconds, before anything walks what they hold: an alias bomb (``&a [*a, *a]``
# nested a few times) is small as text but huge once expanded, so the nodes are counted as
# expanded, aliases at their full weight.
MAX_YAML_BYTES = 1_000_000
MAX_DEPTH = 50  # nesting levels; PyYAML's composer recurses and would hit RecursionError
MAX_STRING = 10_000  # characters in one scalar
MAX_ITEMS = 10_000  # entries in one list or mapping
MAX_NODES = 100_000  # values in the whole document, aliases counted as expanded


class YamlLimitError(BadValueError):
    """A YAML text beyond one of the limits above; ``line`` is 1-based (None: the whole text)."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(f"line {line}: {problem}" if line else problem)
        self.line, self.problem = line, problem


def _limited(base: Any) -> Any:
    """A subclass of a PyYAML Loader that checks every node as it is composed, so a refused
    text is never expanded (see the limits above)."""
    from yaml.events import AliasEvent
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    class Limited(base):  # type: ignore[misc, valid-type]
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            line = event.start_mark.line + 1
            if self.check_event(AliasEvent):
                node = super().compose_node(parent, index)
                if getattr(node, "weight", None) is None:
                    raise YamlLimitError(line, f"alias *{event.anchor} refers to the value "
                                               "that holds it (a recursive structure)")
                return node
            if self._depth >= MAX_DEPTH:
                raise YamlLimitError(line, f"nested deeper than {MAX_DEPTH} levels")
            self._depth += 1
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            node.weight = 1 + _children_weight(node)
            if node.weight > MAX_NODES:
                raise YamlLimitError(line, f"holds more than {MAX_NODES} values once its "
                                           "aliases (*name) are expanded")
            return node

    def _children_weight(node: Any) -> int:
        if isinstance(node, ScalarNode):
            if len(node.value) > MAX_STRING:
                raise YamlLimitError(node.start_mark.line + 1,
                                     f"a text of {len(node.value)} characters; at most "
                                     f"{MAX_STRING} are read")
            return 0
        if isinstance(node, (SequenceNode, MappingNode)) and len(node.value) > MAX_ITEMS:
            what = "list" if isinstance(node, SequenceNode) else "mapping"
            raise YamlLimitError(node.start_mark.line + 1,
                                 f"a {what} of {len(node.value)} entries; at most {MAX_ITEMS}")
        if isinstance(node, SequenceNode):
            return sum(child.weight for child in node.value)
        return sum(k.weight + v.weight for k, v in node.value)

    Limited.__name__ = f"Limited{base.__name__}"
    return Limited


@cache
def _number_loader() -> Any:
    """SafeLoader with YAML 1.2's floats and the limits above: still constructs no objects."""
    import yaml

    return _limited(_with_exponent_floats(yaml.SafeLoader))


@cache
def number_dumper() -> Any:
    """SafeDumper that quotes the strings ``load_yaml`` would read as numbers (a title
    '2e5'), so that a dumped config reads back the same."""
    import yaml

    return _with_exponent_floats(yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that reads ``1e-8`` as a number, as YAML 1.2 does: PyYAML follows
    YAML 1.1, whose floats need a dot (``1.0e-8``), and would hand torch the text '1e-8'.
    A text beyond the limits above raises ``YamlLimitError`` (with the line)."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(None, f"{len(text)} characters of YAML; at most "
                                   f"{MAX_YAML_BYTES} are read")
    return yaml.load(text, Loader=_number_loader())


def parse_value(text: str) -> Any:
    """A YAML scalar or flow list; numbers such as ``1e-3`` that YAML 1.1 leaves as text too."""
    import yaml

    text = text.strip()
    if "," in text and not text.startswith(("[", "{", "'", '"')):
        text = f"[{text}]"
    try:
        value = load_yaml(text) if text else None
    except YamlLimitError as exc:
        raise BadValueError(f"cannot read value {text[:20]!r}...: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise BadValueError(f"cannot read value {text!r}: {exc.problem}") from None
    return _numbers(value)


def _numbers(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes: ``a=1,b=[1,2]`` -> ``a=1``, ``b=[1,2]``."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in (p.strip() for p in parts) if p]


def parse_inline(token: str) -> tuple[str, dict[str, Any]]:
    """``sgd:lr=0.01,momentum=0.9`` -> ``("sgd", {"lr": 0.01, "momentum": 0.9})``. An empty
    value (``adam:lr=``) is an error, not a setting left out."""
    name, _, rest = token.partition(":")
    name = name.strip()
    if not name:
        raise BadValueError(f"missing name before ':' in {token!r}")
    settings: dict[str, Any] = {}
    for item in split_top_level(rest):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise BadValueError(f"setting {item!r} in {token!r} is not key=value")
        if not value.strip():
            raise BadValueError(f"setting {key.strip()!r} in {token!r} has no value "
                                f"(write {key.strip()}=VALUE, or leave it out)")
        settings[key.strip()] = parse_value(value)
    return name, settings


def parse_cli_tokens(
    tokens: Iterable[str], flag_keys: set[str]
) -> tuple[list[str], dict[str, Any]]:
    """Split raw tokens into positional names and ``--kebab-name VALUE`` settings.

    A key in ``flag_keys`` (a boolean keyword) takes no value: ``--nesterov`` is True and
    ``--no-nesterov`` False; ``--key=value`` works for any key.
    """
    names: list[str] = []
    settings: dict[str, Any] = {}
    items = list(tokens)
    i = 0
    while i < len(items):
        tok = items[i]
        i += 1
        if not tok.startswith("--") or tok == "--":
            names.append(tok)
            continue
        body = tok[2:]
        if "=" in body:
            key, _, raw = body.partition("=")
            settings[key.replace("-", "_")] = parse_value(raw)
            continue
        key = body.replace("-", "_")
        if key.startswith("no_") and key[3:] in flag_keys:
            settings[key[3:]] = False
        elif key in flag_keys:
            settings[key] = True
        elif i < len(items) and not items[i].startswith("--"):
            settings[key] = parse_value(items[i])
            i += 1
        else:
            raise BadValueError(f"option --{body} needs a value")
    return names, settings


# Settings whose value is kept as raw text on the command line: formulas contain commas and
# parentheses that the YAML value syntax would split, and nested scheduler lists contain
# their own settings.
RAW_KEYS = ("lr_lambda", "scale_fn", "schedulers")


# -- the command-line form of a scheduler -----------------------------------------------------


def parse_scheduler_token(token: str) -> dict[str, Any]:
    """``StepLR:step_size=3,gamma=0.7`` -> ``{"name": ..., "settings": {...}}``.

    Like ``settings.parse_inline`` but formulas stay raw text (``lr_lambda=min(1, epoch/5)``)
    and ``schedulers=[linear(total_iters=4), cosine]`` becomes nested scheduler forms.
    """
    name, colon, rest = token.partition(":")
    if "(" in name and not colon:  # the nested form linear(total_iters=4)
        name, _, rest = token.partition("(")
        rest = rest.rstrip()
        if not rest.endswith(")"):
            raise BadValueError(f"missing ')' in {token!r}")
        rest = rest[:-1]
    name = name.strip()
    if not name:
        raise BadValueError(f"missing scheduler name in {token!r}")
    if _SETTING_ITEM.match(token):
        raise BadValueError(
            f"{token.strip()!r} is a setting, not a scheduler: it goes after the scheduler's "
            f"name, as NAME:{token.strip()} (or NAME({token.strip()}) inside a list)")
    settings: dict[str, Any] = {}
    schedulers: list[Any] | None = None
    for item in split_top_level(rest):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise BadValueError(f"setting {item!r} in {token!r} is not key=value")
        if key == "schedulers":
            schedulers = [parse_scheduler_token(t) for t in _nested_tokens(value)]
        elif key in RAW_KEYS:
            items = _raw_list(value)
            settings[key] = items if value.strip().startswith("[") else items[0]
        else:
            settings[key] = parse_value(value)
    out: dict[str, Any] = {"name": name, "settings": settings}
    if schedulers is not None:
        out["schedulers"] = schedulers
    return out


# ``key=value``: a setting. No scheduler name holds '=', so a list item of this shape is
# a setting that came loose from its scheduler (``[linear:a=1,b=2, cosine]``).
_SETTING_ITEM = re.compile(r"\s*[A-Za-z_]\w*\s*=")


def _nested_tokens(value: str) -> list[str]:
    """The scheduler tokens of ``schedulers=[...]``. Commas there separate schedulers, so
    ``linear:start_factor=0.1,total_iters=4`` inside the list falls apart; the settings that
    came loose are refused with the form that works, ``linear(start_factor=0.1,...)``."""
    items = _raw_list(value)
    for i, item in enumerate(items):
        if not _SETTING_ITEM.match(item):
            continue
        stray = [item]
        for later in items[i + 1:]:
            if not _SETTING_ITEM.match(later):
                break
            stray.append(later)
        if i == 0:
            raise BadValueError(
                f"{item!r} in schedulers=[...] is a setting, not a scheduler: inside a list "
                f"write NAME({','.join(stray)})")
        owner = items[i - 1]
        name, own = _nested_parts(owner)
        good = f"{name}({','.join([*([own] if own else []), *stray])})"
        raise BadValueError(
            f"inside a list write {good}, not {owner},{','.join(stray)} "
            f"(commas in the list separate schedulers)")
    return items


def _nested_parts(item: str) -> tuple[str, str]:
    """``linear:a=1`` or ``linear(a=1)`` -> ``("linear", "a=1")``."""
    name, colon, rest = item.partition(":")
    if "(" in name and not colon:
        name, _, rest = item.partition("(")
        rest = rest.rstrip().removesuffix(")")
    return name.strip(), rest.strip()


def _raw_list(text: str) -> list[str]:
    """``[a, 'b,c', d(x=1,y=2)]`` -> ``["a", "b,c", "d(x=1,y=2)"]``; a bare item is one."""
    text = text.strip()
    bracketed = text.startswith("[") and text.endswith("]")
    parts = split_top_level(text[1:-1]) if bracketed else [text]
    return [_unquote(p) for p in parts]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
