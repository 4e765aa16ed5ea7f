"""XLSForm expressions: a small, safe parser and evaluator.

Survey definitions use the XLSForm expression syntax for ``relevant``, ``constraint``,
``choice_filter`` and indicators: ``${name}`` references, ``.`` for the current answer,
string and number literals, ``= != < <= > >= and or + - * div mod``, unary minus,
parentheses and a handful of functions. Source text is tokenised and parsed by hand into
a small immutable tree; ``parse`` also compiles that tree once into nested closures, so
evaluating an expression over many responses never re-parses and never calls ``eval``.

Values follow XPath 1.0 as ODK applies it: a skipped question and "prefer not to say"
read as the empty string, a multiple-choice answer reads as its values joined by spaces,
comparisons with a number are numeric, and an empty or non-numeric value never satisfies
``<``, ``<=``, ``>``, ``>=`` or ``=`` against a number.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

__all__ = [
    "PREFER_NOT_TO_SAY",
    "BareName",
    "Binary",
    "Call",
    "Current",
    "Expression",
    "ExpressionError",
    "ExpressionSyntaxError",
    "Negate",
    "Node",
    "NumberLiteral",
    "Reference",
    "StringLiteral",
    "UnknownFunctionError",
    "UnknownReferenceError",
    "Value",
    "check_references",
    "parse",
]

PREFER_NOT_TO_SAY: Final = "_pnts"

# Deep nesting would exhaust Python's recursion limit while parsing or evaluating;
# no real form comes anywhere near this.
MAX_DEPTH: Final = 100

Value = str | int | float | bool


# --------------------------------------------------------------------------- errors


class ExpressionError(Exception):
    """An expression that cannot be used, with the place in its text that is at fault."""

    def __init__(self, expression: str, position: int, message: str) -> None:
        self.expression = expression
        self.position = position
        self.message = message
        super().__init__(expression, position, message)

    def __str__(self) -> str:
        # Line breaks and tabs would misalign the caret; each becomes one space so that
        # the caret still sits under the character at ``position``.
        shown = self.expression.translate(_ONE_LINE)
        lead = f"{self.message} at position {self.position}: "
        return f"{lead}{shown}\n{' ' * (len(lead) + self.position)}^"


_ONE_LINE: Final = {ord(c): " " for c in "\t\n\r\v\f"}


class ExpressionSyntaxError(ExpressionError):
    """The text is not a valid expression."""


class UnknownFunctionError(ExpressionSyntaxError):
    """The expression calls a function this application does not provide."""


class UnknownReferenceError(ExpressionError):
    """The expression refers to ``${name}`` for a question the survey does not have."""

    def __init__(self, expression: str, position: int, name: str) -> None:
        self.name = name
        super().__init__(expression, position, f"unknown question ${{{name}}}")
        self.args = (expression, position, name)  # so that the error survives pickling


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Reference:
    """``${name}``: the answer to another question."""

    name: str
    position: int


@dataclass(frozen=True)
class Current:
    """``.``: the answer to the question the expression belongs to."""

    position: int


@dataclass(frozen=True)
class BareName:
    """``name`` without ``${}``: an extra column of a choice option (choice_filter only)."""

    name: str
    position: int


@dataclass(frozen=True)
class StringLiteral:
    value: str
    position: int


@dataclass(frozen=True)
class NumberLiteral:
    value: int | float
    position: int


@dataclass(frozen=True)
class Negate:
    operand: Node
    position: int


@dataclass(frozen=True)
class Binary:
    operator: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple[Node, ...]
    position: int


Node = Reference | Current | BareName | StringLiteral | NumberLiteral | Negate | Binary | Call


def _walk(node: Node) -> Iterator[Node]:
    """Every node, in the order its text appears in the source."""
    yield node
    match node:
        case Negate(operand=operand):
            yield from _walk(operand)
        case Binary(left=left, right=right):
            yield from _walk(left)
            yield from _walk(right)
        case Call(arguments=arguments):
            for argument in arguments:
                yield from _walk(argument)
        case _:
            pass


# --------------------------------------------------------------------------- tokens

_END: Final = "end"
_NUMBER: Final = "number"
_STRING: Final = "string"
_REFERENCE: Final = "reference"
_CURRENT: Final = "current"
# `position(` just before `..`: the one place ODK's parent step has a meaning here.
_POSITION_OPENING: Final = re.compile(r"\bposition\s*\(\s*\Z")
# position(..) as written, replaced by the repetition number in each repetition of a page.
POSITION_CALL: Final = re.compile(r"\bposition\s*\(\s*\.\.\s*\)")
_NAME: Final = "name"
_SYMBOL: Final = "symbol"


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


_SYMBOLS: Final = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "(", ")", ",")
# Operators people bring from other languages, and what to write instead.
_FOREIGN_OPERATORS: Final = {"==": "=", "&&": "and", "||": "or", "<>": "!="}
_CLOSING_QUOTES: Final = {
    "'": "'",
    '"': '"',
    "\u2018": "\u2018\u2019",  # Spreadsheets turn ' into curly quotes, sometimes both ways.
    "\u2019": "\u2018\u2019",
    "\u201c": "\u201c\u201d",
    "\u201d": "\u201c\u201d",
}
_NUMBER_PATTERN: Final = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _scan_name(text: str, start: int) -> int:
    """End of the XPath-style name at ``start``: letters, digits, ``_``, inner ``-``, one ``:``."""
    end = start + 1
    length = len(text)
    seen_prefix = False
    while end < length:
        char = text[end]
        if _is_name_char(char):
            end += 1
        elif char in "-." and end + 1 < length and _is_name_char(text[end + 1]):
            end += 2
        elif char == ":" and not seen_prefix and end + 1 < length and _is_name_start(text[end + 1]):
            seen_prefix = True
            end += 2
        else:
            break
    return end


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    length = len(text)

    def fail(at: int, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(text, at, message)

    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        start = position
        if char == "$":
            if not text.startswith("${", position):
                raise fail(start, "unexpected '$' (a question is written ${name})")
            close = text.find("}", position + 2)
            name = text[position + 2 : close]
            if close < 0 or any(c in name for c in "${'\"\u2018\u2019\u201c\u201d"):
                raise fail(start, "'${' without a closing '}'")
            if not name:
                raise fail(start, "empty reference '${}'")
            if not _is_name_start(name[0]) or _scan_name(name, 0) != len(name):
                raise fail(start, f"'{name}' is not a question name")
            tokens.append(_Token(_REFERENCE, name, start))
            position = close + 1
        elif char.isdigit() or (char == "." and text[position + 1 : position + 2].isdigit()):
            match = _NUMBER_PATTERN.match(text, position)
            assert match is not None  # the first character is a digit or ".digit"
            tokens.append(_Token(_NUMBER, match.group(), start))
            position = match.end()
        elif char == ".":
            if text.startswith("..", position):
                if _POSITION_OPENING.search(text, 0, start):
                    tokens.append(_Token(_CURRENT, "..", start))  # position(..)
                    position += 2
                    continue
                raise fail(start, "'..' is not supported; refer to a question as ${name}")
            tokens.append(_Token(_CURRENT, ".", start))
            position += 1
        elif char in _CLOSING_QUOTES:
            closers = _CLOSING_QUOTES[char]
            end = position + 1
            while end < length and text[end] not in closers:
                end += 1
            if end >= length:
                raise fail(start, "unterminated string")
            tokens.append(_Token(_STRING, text[position + 1 : end], start))
            position = end + 1
        elif _is_name_start(char):
            end = _scan_name(text, position)
            tokens.append(_Token(_NAME, text[position:end], start))
            position = end
        else:
            pair = text[position : position + 2]
            if pair in _FOREIGN_OPERATORS:
                raise fail(start, f"'{pair}' is not an operator; use '{_FOREIGN_OPERATORS[pair]}'")
            symbol = next((s for s in _SYMBOLS if text.startswith(s, position)), None)
            if symbol is None:
                raise fail(start, f"unexpected {char!r}")
            tokens.append(_Token(_SYMBOL, symbol, start))
            position += len(symbol)
    tokens.append(_Token(_END, "", length))
    return tokens


# --------------------------------------------------------------------------- parser

# Binding power of each binary operator, lowest first, as in XPath 1.0.
_PRECEDENCE: Final = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}
_WORD_OPERATORS: Final = frozenset({"or", "and", "div", "mod"})

# Fewest and most arguments each function takes (None: any number).
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "not": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "string-length": (1, 1),
    "if": (3, 3),
    "int": (1, 1),
    "number": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "today": (0, 0),
    "regex": (2, 2),
    "string": (1, 1),
    "concat": (0, None),
    "coalesce": (2, 2),
    "sum": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "round": (1, 2),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "abs": (1, 1),
    "pow": (2, 2),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "substr": (2, 3),
    "normalize-space": (1, 1),
    "boolean": (1, 1),
    "boolean-from-string": (1, 1),
    "selected-at": (2, 2),
}
# now() gives the time of day, which would be kept with nothing to bound it; today() is the day
# of answering (UTC), which the server and the browser both know.
_CLOCK_FUNCTIONS: Final = frozenset({"now"})
# Regular expression syntax that Python reads but JavaScript (the browser) and Java (ODK) do
# not, or read differently: a pattern using it is refused so both sides mean the same.
_FOREIGN_REGEX: Final = re.compile(r"\\[AZz]|\(\?P|\(\?#|\(\?>|\(\?[aiLmsux-]+[:)]|[*+?}][+]")


def _describe(token: _Token) -> str:
    if token.kind == _END:
        return "end of expression"
    if token.kind == _STRING:
        return f"string {token.text!r}"
    if token.kind == _REFERENCE:
        return f"'${{{token.text}}}'"
    return f"'{token.text}'"


class _Parser:
    """Precedence climbing over the token list; returns each subtree with its depth."""

    def __init__(self, text: str, allow_bare_names: bool) -> None:
        self.text = text
        self.allow_bare_names = allow_bare_names
        self.tokens = _tokenise(text)
        self.index = 0
        # Positions of the parentheses still open, to name the right one when text ends early.
        self.open_parentheses: list[tuple[int, str]] = []

    def fail(self, position: int, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(self.text, position, message)

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_symbol(self, symbol: str) -> bool:
        return self.token.kind == _SYMBOL and self.token.text == symbol

    def binary_operator(self) -> str | None:
        token = self.token
        if token.kind == _SYMBOL and token.text in _PRECEDENCE:
            return token.text
        if token.kind == _NAME and token.text in _WORD_OPERATORS:
            return token.text
        return None

    def check_depth(self, depth: int, position: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(position, f"expression nested more than {MAX_DEPTH} levels deep")

    def parse(self) -> Node:
        if self.token.kind == _END:
            raise self.fail(0, "empty expression")
        node, _ = self.expression(1, 0)
        if self.token.kind != _END:
            raise self.fail(self.token.position, f"unexpected {_describe(self.token)}")
        return node

    def expression(self, min_precedence: int, nesting: int) -> tuple[Node, int]:
        left, depth = self.unary(nesting)
        while (operator := self.binary_operator()) is not None:
            precedence = _PRECEDENCE[operator]
            if precedence < min_precedence:
                break
            operator_token = self.advance()
            if self.token.kind == _END:
                raise self.fail(operator_token.position, f"missing operand after '{operator}'")
            right, right_depth = self.expression(precedence + 1, nesting)
            depth = max(depth, right_depth) + 1
            self.check_depth(depth, operator_token.position)
            left = Binary(operator, left, right, operator_token.position)
        return left, depth

    def unary(self, nesting: int) -> tuple[Node, int]:
        minus_signs: list[int] = []
        while self.at_symbol("-"):
            minus_signs.append(self.advance().position)
        if minus_signs and self.token.kind == _END:
            raise self.fail(minus_signs[-1], "missing operand after '-'")
        node, depth = self.primary(nesting)
        for position in reversed(minus_signs):
            depth += 1
            self.check_depth(depth, position)
            node = Negate(node, position)
        return node, depth

    def primary(self, nesting: int) -> tuple[Node, int]:
        token = self.token
        if token.kind == _NUMBER:
            self.advance()
            return NumberLiteral(_number_literal(token.text), token.position), 1
        if token.kind == _STRING:
            self.advance()
            return StringLiteral(token.text, token.position), 1
        if token.kind == _REFERENCE:
            self.advance()
            return Reference(token.text, token.position), 1
        if token.kind == _CURRENT:
            self.advance()
            return Current(token.position), 1
        if token.kind == _NAME:
            return self.name(nesting)
        if self.at_symbol("("):
            opening = self.advance()
            self.check_depth(nesting + 1, opening.position)
            self.open_parentheses.append((opening.position, "'('"))
            node, depth = self.expression(1, nesting + 1)
            self.close()
            return node, depth
        if token.kind == _END:
            if self.open_parentheses:
                position, what = self.open_parentheses[-1]
                raise self.fail(position, f"unclosed {what}")
            raise self.fail(token.position, "unexpected end of expression")
        raise self.fail(token.position, f"unexpected {_describe(token)}")

    def name(self, nesting: int) -> tuple[Node, int]:
        token = self.advance()
        if self.at_symbol("("):
            return self.call(token, nesting)
        if token.text in _WORD_OPERATORS:
            raise self.fail(token.position, f"expected a value before '{token.text}'")
        if not self.allow_bare_names:
            raise self.fail(
                token.position,
                f"bare name '{token.text}' is not allowed here; "
                f"refer to a question as ${{{token.text}}}",
            )
        return BareName(token.text, token.position), 1

    def call(self, name: _Token, nesting: int) -> tuple[Node, int]:
        function = name.text
        if function == "position":
            return self.position_call(name)
        if function in _CLOCK_FUNCTIONS:
            raise UnknownFunctionError(
                self.text,
                name.position,
                f"{function}() is not supported: responses do not record the time they were "
                f"given (today() gives the day)",
            )
        if function not in _ARITY:
            supported = ", ".join(f"{f}()" for f in sorted(_ARITY) if f != "today")
            raise UnknownFunctionError(
                self.text,
                name.position,
                f"unknown function {function}() (supported: {supported})",
            )
        opening = self.advance()
        self.check_depth(nesting + 1, opening.position)
        self.open_parentheses.append((opening.position, f"'(' of {function}()"))
        arguments: list[Node] = []
        depth = 0
        if not self.at_symbol(")"):
            while True:
                argument, argument_depth = self.expression(1, nesting + 1)
                arguments.append(argument)
                depth = max(depth, argument_depth)
                if not self.at_symbol(","):
                    break
                self.advance()
        self.close(expected="',' or ')'")
        fewest, most = _ARITY[function]
        if len(arguments) < fewest or (most is not None and len(arguments) > most):
            if most is None:
                wanted = f"at least {fewest} argument{'s' if fewest != 1 else ''}"
            elif fewest == most:
                wanted = f"{fewest} argument{'s' if fewest != 1 else ''}"
            else:
                wanted = f"{fewest} to {most} arguments"
            raise self.fail(name.position, f"{function}() takes {wanted}, not {len(arguments)}")
        if function == "regex":
            _check_pattern(self.text, arguments[1])
        depth += 1
        self.check_depth(depth, name.position)
        return Call(function, tuple(arguments), name.position), depth

    def position_call(self, name: _Token) -> tuple[Node, int]:
        """`position(..)`: the number of the repetition (1, 2, ...) of a repeated page."""
        opening = self.advance()
        self.open_parentheses.append((opening.position, "'(' of position()"))
        if not (self.token.kind == _CURRENT and self.token.text == ".."):
            raise self.fail(
                name.position,
                "write position(..): the number of the repetition of a repeated page",
            )
        self.advance()
        self.close()
        return Call("position", (), name.position), 1

    def close(self, expected: str = "')'") -> None:
        if self.at_symbol(")"):
            self.advance()
            self.open_parentheses.pop()
            return
        if self.token.kind == _END:
            position, what = self.open_parentheses[-1]
            raise self.fail(position, f"unclosed {what}")
        raise self.fail(
            self.token.position, f"expected {expected} but found {_describe(self.token)}"
        )


def _check_pattern(text: str, argument: Node) -> None:
    """regex()'s pattern: written as text, valid, and read the same by Python and JavaScript."""
    if not isinstance(argument, StringLiteral):
        raise ExpressionSyntaxError(
            text, _position(argument), "regex() needs its pattern written as text in quotes"
        )
    foreign = _FOREIGN_REGEX.search(argument.value)
    if foreign is not None:
        raise ExpressionSyntaxError(
            text,
            argument.position + 1 + foreign.start(),
            f"'{foreign.group()}' in a regex() pattern is not understood by ODK and browsers",
        )
    try:
        _pattern(argument.value)
    except re.error as error:
        where = argument.position + 1 + (error.pos or 0)
        raise ExpressionSyntaxError(
            text, where, f"regex() pattern is not valid: {error.msg}"
        ) from None


def _position(node: Node) -> int:
    return node.position


def _pattern(source: str) -> re.Pattern[str]:
    # ASCII: \d, \w and \s mean what they mean in Java and JavaScript.
    return re.compile(source, re.ASCII)


def _number_literal(text: str) -> int | float:
    # Long digit strings go through float: int() refuses very long strings.
    if text.isdigit() and len(text) <= 15:
        return int(text)
    return float(text)


# --------------------------------------------------------------------------- values

_NUMERIC_TEXT: Final = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")
# A date (as date answers and today() are written) reads as a number of days since 1970-01-01,
# as ODK reads dates, so that dates compare and subtract as days.
_DATE_TEXT: Final = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*")
_EPOCH_ORDINAL: Final = datetime.date(1970, 1, 1).toordinal()
_NAN: Final = float("nan")


def _answer_value(raw: object) -> Value:
    """How an answer, as the app stores it, reads inside an expression."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return "" if raw == PREFER_NOT_TO_SAY else raw
    if isinstance(raw, bool | int | float):
        return raw
    if isinstance(raw, list | tuple):
        return " ".join(str(item) for item in raw)
    raise TypeError(f"an expression cannot use a value of type {type(raw).__name__}: {raw!r}")


def _to_number(value: Value) -> float:
    """XPath number(): booleans are 1 or 0, text that is not a plain decimal is NaN."""
    if isinstance(value, str):
        if _NUMERIC_TEXT.fullmatch(value) is None:
            return _date_number(value)
        return float(value)
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        return math.inf if value > 0 else -math.inf


def _date_number(text: str) -> float:
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        return _NAN
    try:
        day = datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return _NAN
    return float(day.toordinal() - _EPOCH_ORDINAL)


def today() -> str:
    """The day of answering, as today() gives it: UTC, so the server and browsers agree."""
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _to_boolean(value: Value) -> bool:
    """XPath boolean(): empty text, 0 and NaN are false."""
    if isinstance(value, str):
        return value != ""
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return bool(value)


def _to_string(value: Value) -> str:
    """XPath string(): numbers without exponent, whole numbers without a decimal point."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return _to_boolean(left) == _to_boolean(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return _to_number(left) == _to_number(right)


def _divide(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or math.isnan(left):
            return _NAN
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    try:
        return left / right
    except OverflowError:
        return math.copysign(math.inf, left) * math.copysign(1.0, right)


def _modulo(left: float, right: float) -> float:
    # XPath mod keeps the sign of the dividend, like math.fmod and unlike Python's %.
    if right == 0 or math.isinf(left) or math.isnan(left) or math.isnan(right):
        return _NAN
    return math.fmod(left, right)


def _truncate(value: float) -> int | float:
    if math.isnan(value) or math.isinf(value):
        return value
    return int(value)


def _selected_values(value: Value) -> list[str]:
    return _to_string(value).split()


# --------------------------------------------------------------------------- compiler

Answers = Mapping[str, object]
Names = Mapping[str, object] | None
_Evaluator = Callable[[Answers, object, Names], Value]

_ARITHMETIC: Final[dict[str, Callable[[float, float], float]]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "div": _divide,
    "mod": _modulo,
}
_ORDERING: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compile(node: Node) -> _Evaluator:
    match node:
        case Reference(name=name):

            def reference(answers: Answers, current: object, names: Names) -> Value:
                return _answer_value(answers.get(name))

            return reference
        case Current():

            def current_answer(answers: Answers, current: object, names: Names) -> Value:
                return _answer_value(current)

            return current_answer
        case BareName(name=name):

            def option_column(answers: Answers, current: object, names: Names) -> Value:
                return "" if names is None else _answer_value(names.get(name))

            return option_column
        case StringLiteral(value=text) | NumberLiteral(value=text):
            return _constant(text)
        case Negate(operand=operand):
            inner = _compile(operand)

            def negate(answers: Answers, current: object, names: Names) -> Value:
                return -_to_number(inner(answers, current, names))

            return negate
        case Binary(operator=operator, left=left, right=right):
            return _compile_binary(operator, _compile(left), _compile(right))
        case Call(function=function, arguments=arguments):
            return _compile_call(function, arguments)
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


def _constant(value: Value) -> _Evaluator:
    def constant(answers: Answers, current: object, names: Names) -> Value:
        return value

    return constant


def _compile_binary(operator: str, left: _Evaluator, right: _Evaluator) -> _Evaluator:
    if operator == "and":

        def both(answers: Answers, current: object, names: Names) -> Value:
            return _to_boolean(left(answers, current, names)) and _to_boolean(
                right(answers, current, names)
            )

        return both
    if operator == "or":

        def either(answers: Answers, current: object, names: Names) -> Value:
            return _to_boolean(left(answers, current, names)) or _to_boolean(
                right(answers, current, names)
            )

        return either
    if operator == "=":

        def equal(answers: Answers, current: object, names: Names) -> Value:
            return _equal(left(answers, current, names), right(answers, current, names))

        return equal
    if operator == "!=":

        def not_equal(answers: Answers, current: object, names: Names) -> Value:
            return not _equal(left(answers, current, names), right(answers, current, names))

        return not_equal
    if operator in _ORDERING:
        compare = _ORDERING[operator]

        def ordering(answers: Answers, current: object, names: Names) -> Value:
            return compare(
                _to_number(left(answers, current, names)),
                _to_number(right(answers, current, names)),
            )

        return ordering
    calculate = _ARITHMETIC[operator]

    def arithmetic(answers: Answers, current: object, names: Names) -> Value:
        return calculate(
            _to_number(left(answers, current, names)),
            _to_number(right(answers, current, names)),
        )

    return arithmetic


def _compile_call(function: str, nodes: tuple[Node, ...]) -> _Evaluator:
    arguments = [_compile(node) for node in nodes]
    if function == "true":
        return _constant(True)
    if function == "false":
        return _constant(False)
    if function == "position":

        def unplaced(answers: Answers, current: object, names: Names) -> Value:
            # A repeated page's expressions have the repetition number in its place; the
            # loader refuses position(..) anywhere else.
            raise ValueError("position(..) outside a repeated page has no value")

        return unplaced
    if function == "today":

        def day(answers: Answers, current: object, names: Names) -> Value:
            return today()

        return day
    if function == "if":
        condition, then, otherwise = arguments

        def choose(answers: Answers, current: object, names: Names) -> Value:
            if _to_boolean(condition(answers, current, names)):
                return then(answers, current, names)
            return otherwise(answers, current, names)

        return choose
    if function == "coalesce":
        first, second = arguments

        def first_given(answers: Answers, current: object, names: Names) -> Value:
            value = first(answers, current, names)
            return value if _to_string(value) != "" else second(answers, current, names)

        return first_given
    if function == "selected":
        answer, option = arguments

        def selected(answers: Answers, current: object, names: Names) -> Value:
            wanted = _to_string(option(answers, current, names)).strip()
            return wanted in _selected_values(answer(answers, current, names))

        return selected
    if function == "regex":
        (text, _), pattern = arguments, _pattern(_literal(nodes[1]))

        def matches(answers: Answers, current: object, names: Names) -> Value:
            return pattern.search(_to_string(text(answers, current, names))) is not None

        return matches
    many = _MANY_ARGUMENTS.get(function)
    if many is not None:
        combine = many

        def call_many(answers: Answers, current: object, names: Names) -> Value:
            return combine([argument(answers, current, names) for argument in arguments])

        return call_many
    (argument,) = arguments
    convert: Callable[[Value], Value] = _SINGLE_ARGUMENT[function]

    def call(answers: Answers, current: object, names: Names) -> Value:
        return convert(argument(answers, current, names))

    return call


def _literal(node: Node) -> str:
    assert isinstance(node, StringLiteral)  # checked by the parser
    return node.value


def _round(values: list[Value]) -> Value:
    number = _to_number(values[0])
    digits = _truncate(_to_number(values[1])) if len(values) > 1 else 0
    if math.isnan(number) or math.isinf(number) or not isinstance(digits, int):
        return number
    # XPath round(): halves go up (floor of x + 0.5), in JavaScript's Math.round too.
    scale = 10.0**digits
    return math.floor(number * scale + 0.5) / scale


def _extreme(pick: Callable[[list[float]], float]) -> Callable[[list[Value]], Value]:
    def extreme(values: list[Value]) -> Value:
        numbers = [_to_number(value) for value in values]
        if any(math.isnan(number) for number in numbers):
            return _NAN
        return pick(numbers)

    return extreme


def _power(values: list[Value]) -> Value:
    base, exponent = (_to_number(value) for value in values)
    if math.isnan(base) or math.isnan(exponent):
        return _NAN  # Python's pow(nan, 0) is 1; ODK's and JavaScript's differ, so: unanswered
    try:
        return math.pow(base, exponent)
    except ValueError:  # a negative number to a fractional power, or 0 to a negative one
        return math.inf if base == 0 else _NAN
    except OverflowError:
        return (
            math.inf
            if base > 0 or (float(exponent).is_integer() and exponent % 2 == 0)
            else -math.inf
        )


def _substring(values: list[Value]) -> Value:
    """ODK's substr(text, start, end): characters from start up to end (0-based, end excluded)."""
    text = _to_string(values[0])
    bounds = [_to_number(value) for value in values[1:]]
    if any(math.isnan(bound) for bound in bounds):
        return ""
    start = _clamp(bounds[0], len(text))
    end = _clamp(bounds[1], len(text)) if len(bounds) > 1 else len(text)
    return text[start:end]


def _clamp(bound: float, length: int) -> int:
    position = length + bound if bound < 0 else bound
    return int(min(max(position, 0), length))


def _selected_at(values: list[Value]) -> Value:
    chosen = _selected_values(values[0])
    index = _to_number(values[1])
    if math.isnan(index) or math.isinf(index) or not 0 <= int(index) < len(chosen):
        return ""
    return chosen[int(index)]


_XPATH_SPACE: Final = re.compile(r"[ \t\r\n]+")

_SINGLE_ARGUMENT: Final[dict[str, Callable[[Value], Value]]] = {
    "not": lambda value: not _to_boolean(value),
    "count-selected": lambda value: len(_selected_values(value)),
    "string-length": lambda value: len(_to_string(value)),
    "int": lambda value: _truncate(_to_number(value)),
    "number": _to_number,
    "string": _to_string,
    # Without repeats a question is one value, so sum() of it is that value as a number.
    "sum": _to_number,
    "floor": lambda value: (
        math.floor(number) if math.isfinite(number := _to_number(value)) else number
    ),
    "ceiling": lambda value: (
        math.ceil(number) if math.isfinite(number := _to_number(value)) else number
    ),
    "abs": lambda value: abs(_to_number(value)),
    "normalize-space": lambda value: _XPATH_SPACE.sub(" ", _to_string(value)).strip(" "),
    "boolean": _to_boolean,
    "boolean-from-string": lambda value: _to_string(value) in {"true", "1"},
}
_MANY_ARGUMENTS: Final[dict[str, Callable[[list[Value]], Value]]] = {
    "concat": lambda values: "".join(_to_string(value) for value in values),
    "min": _extreme(min),
    "max": _extreme(max),
    "round": _round,
    "pow": _power,
    "contains": lambda values: _to_string(values[1]) in _to_string(values[0]),
    "starts-with": lambda values: _to_string(values[0]).startswith(_to_string(values[1])),
    "ends-with": lambda values: _to_string(values[0]).endswith(_to_string(values[1])),
    "substr": _substring,
    "selected-at": _selected_at,
}


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Expression:
    """A parsed expression, compiled once and ready to evaluate against any answers."""

    source: str
    root: Node
    _evaluate: _Evaluator = field(init=False, repr=False, compare=False)
    _references: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_evaluate", _compile(self.root))
        object.__setattr__(
            self,
            "_references",
            frozenset(node.name for node in _walk(self.root) if isinstance(node, Reference)),
        )

    def references(self) -> frozenset[str]:
        """Question ids used as ``${name}``."""
        return self._references

    def bare_names(self) -> frozenset[str]:
        """Names used without ``${}`` (choice option columns in a choice_filter)."""
        return frozenset(node.name for node in _walk(self.root) if isinstance(node, BareName))

    def uses_today(self) -> bool:
        """Whether ``today()`` appears (its value depends on the day of evaluation)."""
        return any(isinstance(node, Call) and node.function == "today" for node in _walk(self.root))

    def uses_position(self) -> bool:
        """Whether ``position(..)`` appears (only meaningful inside a repeated page)."""
        return any(
            isinstance(node, Call) and node.function == "position" for node in _walk(self.root)
        )

    def uses_current(self) -> bool:
        """Whether ``.`` (the current question's answer) appears."""
        return any(isinstance(node, Current) for node in _walk(self.root))

    def evaluate(
        self,
        answers: Mapping[str, object],
        current: object = None,
        names: Mapping[str, object] | None = None,
    ) -> Value:
        """The expression's value: str, int, float or bool.

        ``answers`` maps question id to the stored answer (absent when skipped),
        ``current`` is the answer ``.`` stands for, ``names`` the choice option's columns.
        """
        return self._evaluate(answers, current, names)

    def is_true(
        self,
        answers: Mapping[str, object],
        current: object = None,
        names: Mapping[str, object] | None = None,
    ) -> bool:
        """XPath boolean() of the value: whether a condition holds."""
        return _to_boolean(self._evaluate(answers, current, names))


def parse(text: str, *, allow_bare_names: bool = False) -> Expression:
    """Parse XLSForm expression text; raise ExpressionSyntaxError if it is not valid.

    Bare names (``country = ${country}``) are only meaningful in a choice_filter, where they
    name a choice option's extra columns; elsewhere they are refused unless allowed.
    """
    return Expression(text, _Parser(text, allow_bare_names).parse())


def check_references(expr: Expression, known: Collection[str]) -> None:
    """Raise UnknownReferenceError for the first ``${name}`` that is not in ``known``."""
    for node in _walk(expr.root):
        if isinstance(node, Reference) and node.name not in known:
            raise UnknownReferenceError(expr.source, node.position, node.name)
