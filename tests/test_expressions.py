"""XLSForm expressions: parsing, errors and evaluation as survey designers expect them."""

from __future__ import annotations

import datetime
import math
import pickle
import time

import pytest

from survey_app.definitions import expressions
from survey_app.definitions.expressions import (
    BareName,
    Binary,
    Call,
    Current,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    Negate,
    NumberLiteral,
    Reference,
    StringLiteral,
    UnknownFunctionError,
    UnknownReferenceError,
    check_references,
    parse,
)
from tests.support.expression_cases import CASES, TODAY


def value(text: str, answers: dict[str, object] | None = None, current: object = None) -> object:
    return parse(text).evaluate(answers or {}, current)


def holds(text: str, answers: dict[str, object] | None = None, current: object = None) -> bool:
    return parse(text).is_true(answers or {}, current)


# --------------------------------------------------------------------------- syntax and tree


def test_parse_builds_a_typed_tree_with_positions() -> None:
    expression = parse("${age} >= 18 and selected(${services}, 'legal')")
    assert expression.source == "${age} >= 18 and selected(${services}, 'legal')"
    assert expression.root == Binary(
        "and",
        Binary(">=", Reference("age", 0), NumberLiteral(18, 10), 7),
        Call("selected", (Reference("services", 26), StringLiteral("legal", 39)), 17),
        13,
    )


def test_expressions_are_immutable_and_compare_by_source_and_tree() -> None:
    expression = parse(". > 0")
    assert expression == parse(". > 0")
    assert hash(expression) == hash(parse(". > 0"))
    with pytest.raises(AttributeError):
        expression.source = "1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        # or < and
        ("1 or 0 and 0", ("or", 1, ("and", 0, 0))),
        # and < equality
        ("1 = 1 and 0", ("and", ("=", 1, 1), 0)),
        # equality < relational
        ("1 < 2 = 1", ("=", ("<", 1, 2), 1)),
        # relational < additive
        ("1 + 1 < 3", ("<", ("+", 1, 1), 3)),
        # additive < multiplicative
        ("1 + 2 * 3", ("+", 1, ("*", 2, 3))),
        ("6 - 4 div 2", ("-", 6, ("div", 4, 2))),
        ("7 - 5 mod 3", ("-", 7, ("mod", 5, 3))),
        # left associativity
        ("8 - 4 - 2", ("-", ("-", 8, 4), 2)),
        ("8 div 4 div 2", ("div", ("div", 8, 4), 2)),
        # parentheses override
        ("(1 + 2) * 3", ("*", ("+", 1, 2), 3)),
        # unary minus binds tighter than multiplication
        ("-2 * 3", ("*", ("neg", 2), 3)),
        ("--2", ("neg", ("neg", 2))),
    ],
)
def test_precedence_follows_xpath(text: str, shape: object) -> None:
    def simplify(node: object) -> object:
        if isinstance(node, Binary):
            return (node.operator, simplify(node.left), simplify(node.right))
        if isinstance(node, Negate):
            return ("neg", simplify(node.operand))
        assert isinstance(node, NumberLiteral)
        return node.value

    assert simplify(parse(text).root) == shape


def test_precedence_changes_results() -> None:
    assert value("1 + 2 * 3") == 7
    assert value("(1 + 2) * 3") == 9
    assert value("10 - 4 - 3") == 3
    assert value("-2 * 3 + 1") == -5
    assert holds("0 and 0 or 1")
    assert not holds("0 and (0 or 1)")


@pytest.mark.parametrize(
    "text",
    ["'legal'", '"legal"', "\u2018legal\u2019", "\u201clegal\u201d", "\u2019legal\u2019"],
)
def test_string_literals_accept_straight_and_curly_quotes(text: str) -> None:
    assert value(text) == "legal"


def test_strings_keep_the_other_kind_of_quote_inside() -> None:
    assert value('"it\'s"') == "it's"
    assert value("'say \"hi\"'") == 'say "hi"'
    assert value("'it\u2019s'") == "it\u2019s"


def test_number_literals() -> None:
    assert value("42") == 42
    assert value("4.5") == 4.5
    assert value(".5") == 0.5
    assert value("3.") == 3.0
    assert value("1" * 40) == pytest.approx(1.1111111111111111e39)


def test_whitespace_is_optional_and_may_be_any_space() -> None:
    assert holds("${a}='x'and${b}>1", {"a": "x", "b": 2})
    assert holds("${a}\u00a0=\n'x'", {"a": "x"})


def test_references_and_current() -> None:
    expression = parse("${a} = ${b} or ${a} > . + ${c}")
    assert expression.references() == frozenset({"a", "b", "c"})
    assert expression.uses_current()
    assert parse("${a} = 'x'").references() == frozenset({"a"})
    assert not parse("${a} = 'x'").uses_current()
    assert parse(". > 0").references() == frozenset()


def test_reference_names_may_use_xlsform_characters() -> None:
    assert parse("${Q1_a-b.c} = 1").references() == frozenset({"Q1_a-b.c"})


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("(${a} = 1", 0, "unclosed '('"),
        ("${a} = (1 + (2)", 7, "unclosed '('"),
        ("not(${a}", 3, "unclosed '(' of not()"),
        ("selected(${a}, ", 8, "unclosed '(' of selected()"),
        ("${a} = 'x' )", 11, "unexpected ')'"),
        ("${a} = 1 and", 9, "missing operand after 'and'"),
        ("${a} >=", 5, "missing operand after '>='"),
        ("${a} = -", 7, "missing operand after '-'"),
        ("${a} = 'yes", 7, "unterminated string"),
        ("${a} = \u2018yes", 7, "unterminated string"),
        ("${a} = ${b", 7, "'${' without a closing '}'"),
        ("${a = 'x'", 0, "'${' without a closing '}'"),
        ("${} = 1", 0, "empty reference '${}'"),
        ("${a b} = 1", 0, "'a b' is not a question name"),
        ("", 0, "empty expression"),
        ("   ", 0, "empty expression"),
        ("${a} = = 1", 7, "unexpected '='"),
        ("${a} == 1", 5, "'==' is not an operator; use '='"),
        ("${a} && ${b}", 5, "'&&' is not an operator; use 'and'"),
        ("${a} = 1 2", 9, "unexpected '2'"),
        ("(1 2)", 3, "expected ')' but found '2'"),
        ("not(1 2)", 6, "expected ',' or ')' but found '2'"),
        ("${a} and or ${b}", 9, "expected a value before 'or'"),
        ("${a} = $b", 7, "unexpected '$' (a question is written ${name})"),
        ("${a} # 1", 5, "unexpected '#'"),
        ("../a = 1", 0, "'..' is not supported; refer to a question as ${name}"),
        ("selected(${a})", 0, "selected() takes 2 arguments, not 1"),
        ("not()", 0, "not() takes 1 argument, not 0"),
        ("true(1)", 0, "true() takes 0 arguments, not 1"),
        ("age > 18", 0, "bare name 'age' is not allowed here; refer to a question as ${age}"),
    ],
)
def test_syntax_errors_name_the_problem_and_its_position(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse(text)
    assert (raised.value.expression, raised.value.position, raised.value.message) == (
        text,
        position,
        message,
    )


def test_error_text_shows_the_expression_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as raised:
        parse("${a} = 'x' )")
    lead = "unexpected ')' at position 11: "
    assert str(raised.value) == f"{lead}${{a}} = 'x' )\n{' ' * (len(lead) + 11)}^"


def test_caret_stays_aligned_when_the_expression_spans_lines() -> None:
    with pytest.raises(ExpressionError) as raised:
        parse("${a} = 1\nand )")
    first, caret = str(raised.value).split("\n")
    assert first.endswith("${a} = 1 and )")
    assert first[caret.index("^")] == ")"


@pytest.mark.parametrize(
    "text", ["pulldata('f', 'c', 'k', ${a})", "jr:choice-name(${a}, '${a}')", "foo()"]
)
def test_unknown_functions_are_refused_with_the_supported_list(text: str) -> None:
    with pytest.raises(UnknownFunctionError) as raised:
        parse(text)
    assert raised.value.position == 0
    assert raised.value.message.startswith(f"unknown function {text.split('(')[0]}()")
    assert "count-selected()" in raised.value.message


@pytest.mark.parametrize(("text", "position"), [("now() > ${d}", 0), ("${d} < now()", 7)])
def test_the_time_of_day_is_refused_because_no_time_is_recorded(text: str, position: int) -> None:
    with pytest.raises(UnknownFunctionError) as raised:
        parse(text)
    assert raised.value.position == position
    assert "not supported" in raised.value.message
    assert "today() gives the day" in raised.value.message


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('ls')",
        "eval('1')",
        "exec('import os')",
        "open('/etc/passwd')",
        "().__class__",
        "${a}.__class__",
        "[x for x in ()]",
        "lambda: 1",
        "1; import os",
    ],
)
def test_python_is_not_an_expression(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse(text)
    with pytest.raises(ExpressionSyntaxError):
        parse(text, allow_bare_names=True)


def test_a_python_name_is_only_ever_an_option_column() -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse("__builtins__")
    expression = parse("__builtins__", allow_bare_names=True)
    assert expression.evaluate({}) == ""
    assert expression.evaluate({}, names={"__builtins__": "x"}) == "x"


def test_unknown_function_is_a_syntax_error() -> None:
    assert issubclass(UnknownFunctionError, ExpressionSyntaxError)
    assert issubclass(ExpressionSyntaxError, ExpressionError)
    assert issubclass(UnknownReferenceError, ExpressionError)


def test_deep_nesting_is_refused_instead_of_exhausting_the_stack() -> None:
    assert value("(" * 50 + "1" + ")" * 50) == 1
    with pytest.raises(ExpressionSyntaxError, match="nested more than 100 levels"):
        parse("(" * 5000 + "1" + ")" * 5000)
    with pytest.raises(ExpressionSyntaxError, match="nested more than 100 levels"):
        parse(" + ".join(["1"] * 5000))
    with pytest.raises(ExpressionSyntaxError, match="nested more than 100 levels"):
        parse("-" * 5000 + "1")
    with pytest.raises(ExpressionSyntaxError, match="nested more than 100 levels"):
        parse("not(" * 5000 + "1" + ")" * 5000)


# --------------------------------------------------------------------------- references


def test_check_references_accepts_known_questions() -> None:
    check_references(parse("${a} = 1 and selected(${b}, 'x')"), {"a", "b", "c"})


def test_check_references_names_the_first_unknown_question() -> None:
    expression = parse("${a} = 1 and (${zz} = 2 or ${yy} = 3)")
    with pytest.raises(UnknownReferenceError) as raised:
        check_references(expression, ["a", "yy"])
    error = raised.value
    assert (error.name, error.position, error.expression) == ("zz", 14, expression.source)
    assert "${zz}" in str(error)


def test_unknown_reference_error_survives_pickling() -> None:
    with pytest.raises(UnknownReferenceError) as raised:
        check_references(parse("${x} = 1"), set())
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (copy.name, copy.position, copy.message) == ("x", 0, raised.value.message)


# --------------------------------------------------------------------------- bare names


def test_bare_names_refer_to_choice_option_columns_in_choice_filters() -> None:
    expression = parse("country = ${country} and region != 'north'", allow_bare_names=True)
    assert expression.bare_names() == frozenset({"country", "region"})
    assert expression.references() == frozenset({"country"})
    assert isinstance(expression.root, Binary)
    assert isinstance(expression.root.left, Binary)
    assert expression.root.left.left == BareName("country", 0)
    answers = {"country": "ke"}
    assert expression.is_true(answers, names={"country": "ke", "region": "south"})
    assert not expression.is_true(answers, names={"country": "ug", "region": "south"})
    assert not expression.is_true(answers, names={"country": "ke", "region": "north"})


def test_missing_option_column_reads_as_empty() -> None:
    expression = parse("state = ''", allow_bare_names=True)
    assert expression.is_true({}, names={})
    assert expression.is_true({}, names=None)


def test_cascading_select_filter_from_a_real_form() -> None:
    expression = parse("county=${selected_county}", allow_bare_names=True)
    assert expression.is_true({"selected_county": "nakuru"}, names={"county": "nakuru"})
    assert not expression.is_true({"selected_county": "nakuru"}, names={"county": "kisumu"})


def test_bare_names_are_refused_by_default() -> None:
    with pytest.raises(ExpressionSyntaxError, match="bare name 'state'"):
        parse("state=${selected_state}")


def test_current_and_bare_names_can_combine() -> None:
    expression = parse("min_age <= .", allow_bare_names=True)
    assert expression.is_true({}, current=20, names={"min_age": 18})
    assert not expression.is_true({}, current=16, names={"min_age": 18})


# --------------------------------------------------------------------------- evaluation


def test_answers_of_every_stored_type() -> None:
    answers: dict[str, object] = {
        "name": "Amina",
        "age": 25,
        "score": 2.5,
        "services": ["legal", "health"],
        "when": "2026-11",
    }
    assert value("${name}", answers) == "Amina"
    assert value("${age}", answers) == 25
    assert value("${score}", answers) == 2.5
    assert value("${services}", answers) == "legal health"
    assert value("${when}", answers) == "2026-11"


@pytest.mark.parametrize("answers", [{}, {"q": "_pnts"}, {"q": None}])
def test_skipped_and_prefer_not_to_say_read_as_empty(answers: dict[str, object]) -> None:
    assert value("${q}", answers) == ""
    assert holds("${q} = ''", answers)
    assert not holds("${q} != ''", answers)
    assert value("string-length(${q})", answers) == 0
    assert value("count-selected(${q})", answers) == 0
    assert not holds("${q}", answers)


def test_current_answer_reads_like_any_answer() -> None:
    assert value(".", current="_pnts") == ""
    assert value(".") == ""
    assert value(".", current=["a", "b"]) == "a b"
    assert holds(". > 0 and . < 150", current=42)
    assert not holds(". > 0 and . < 150", current=150)
    assert not holds(". > 0 and . < 150", current="")


def test_values_of_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot use a value of type dict"):
        value("${q}", {"q": {"a": 1}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${n} = 4", True),
        ("${n} = '4'", True),
        ("${n} = '4.0'", True),
        ("${n} != 4", False),
        ("${n} < 5", True),
        ("${n} <= 4", True),
        ("${n} > 4", False),
        ("${n} >= 4", True),
        ("${s} = 'yes'", True),
        ("${s} != 'yes'", False),
        ("${s} = 'no'", False),
        ("${s} = 'Yes'", False),
        ("${d} = 2.5", True),
        ("${d} > 2", True),
        ("${t} = 3", True),
        ("${t} > 2.5", True),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    answers: dict[str, object] = {"n": 4, "s": "yes", "d": 2.5, "t": "3"}
    assert parse(text).evaluate(answers) is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [("=", False), ("!=", True), ("<", False), ("<=", False), (">", False), (">=", False)],
)
@pytest.mark.parametrize("answers", [{}, {"q": "_pnts"}, {"q": "many"}, {"q": ""}])
def test_empty_or_text_against_a_number_only_satisfies_not_equal(
    operator: str, expected: bool, answers: dict[str, object]
) -> None:
    assert parse(f"${{q}} {operator} 18").evaluate(answers) is expected
    assert parse(f"18 {operator} ${{q}}").evaluate(answers) is expected


def test_unanswered_age_never_satisfies_a_range() -> None:
    assert not holds("${age} < 18", {})
    assert not holds("${age} >= 18", {})
    assert not holds("${age} < 18", {"age": "_pnts"})


def test_answered_test_for_indicator_denominators() -> None:
    answered = parse("${felt_safe} != ''")
    assert answered.is_true({"felt_safe": 4})
    assert answered.is_true({"felt_safe": 0})
    assert not answered.is_true({})
    assert not answered.is_true({"felt_safe": "_pnts"})


def test_two_strings_compare_as_text_for_equality_and_as_numbers_for_order() -> None:
    assert holds("'01' != '1'")
    assert holds("'01' < '2'")
    assert not holds("'b' > 'a'")


def test_booleans_compare_as_booleans() -> None:
    assert holds("selected(${q}, 'a') = true()", {"q": ["a"]})
    assert holds("(1 = 1) = 'anything'")
    assert holds("(1 = 2) = ''")
    assert holds("true() > false()")


def test_multiple_choice_answers_read_as_space_separated_text() -> None:
    answers: dict[str, object] = {"q": ["legal", "health"]}
    assert holds("${q} = 'legal health'", answers)
    assert not holds("${q} = 'legal'", answers)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 + 3", 5),
        ("2 - 3", -1),
        ("2 * 3", 6),
        ("7 div 2", 3.5),
        ("7 mod 3", 1),
        ("-7 mod 3", -1),
        ("7 mod -3", 1),
        ("5.5 mod 2", 1.5),
        ("-(2 + 3)", -5),
        ("${n} + 1", 5),
        ("${t} * 2", 6),
        ("true() + 1", 2),
    ],
)
def test_arithmetic(text: str, expected: float) -> None:
    result = parse(text).evaluate({"n": 4, "t": "3"})
    assert result == expected
    assert isinstance(result, int | float)
    assert not isinstance(result, bool)


@pytest.mark.parametrize(
    "text", ["${q} + 1", "'x' * 2", "-'x'", "${q} div 2", "1 mod 0", "0 div 0", "${q} mod 2"]
)
def test_arithmetic_on_empty_or_text_is_nan(text: str) -> None:
    result = value(text)
    assert isinstance(result, float)
    assert math.isnan(result)


def test_nan_fails_every_comparison_except_not_equal() -> None:
    assert not holds("${q} + 1 = ${q} + 1")
    assert holds("${q} + 1 != ${q} + 1")
    assert not holds("${q} + 1 < 1 or ${q} + 1 >= 1")
    assert not holds("0 div 0")


def test_division_by_zero_is_infinite() -> None:
    assert value("1 div 0") == math.inf
    assert value("-1 div 0") == -math.inf
    assert holds("1 div 0 > 1000000")


def test_whole_results_equal_integers() -> None:
    assert value("4 div 2") == 2
    assert holds("4 div 2 = 2")
    assert holds("${d} * 2 = 5", {"d": 2.5})
    assert holds("${a} = 2", {"a": 2.0})


def test_huge_integers_do_not_break_conversion() -> None:
    huge = 10**400
    assert value("${n} * 2", {"n": huge}) == math.inf
    assert holds("${n} > 1", {"n": huge})


# --------------------------------------------------------------------------- functions


def test_not() -> None:
    assert holds("not(false())")
    assert not holds("not(true())")
    assert holds("not(${q})", {})
    assert not holds("not(${q})", {"q": "x"})
    assert holds("not(0)")
    assert holds("not(0 div 0)")
    assert value("not(1)") is False


def test_boolean_of_values() -> None:
    assert holds("'x'")
    assert holds("'false'")  # any non-empty text is true, as in XPath
    assert holds("-1")
    assert not holds("''")
    assert not holds("0")


def test_and_or_evaluate_only_as_far_as_needed() -> None:
    calls: list[str] = []

    class Recording(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            calls.append(key)
            return super().get(key, default)

    parse("${a} = 'x' and ${b} = 'y'").evaluate(Recording(a="no", b="y"))
    parse("${a} = 'x' or ${b} = 'y'").evaluate(Recording(a="x", b="y"))
    assert calls == ["a", "a"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (["legal", "health"], True),
        (["health"], False),
        ([], False),
        ("legal", True),
        ("legal health", True),
        ("legally", False),
        ("_pnts", False),
        (None, False),
    ],
)
def test_selected(answer: object, expected: bool) -> None:
    assert parse("selected(${q}, 'legal')").evaluate({"q": answer}) is expected


def test_selected_with_numeric_values_and_curly_quotes() -> None:
    assert holds("selected(${q}, 2)", {"q": ["1", "2"]})
    assert holds("selected(${q}, \u2018other\u2019)", {"q": "other"})
    assert holds("selected(., ' a ')", current=["a", "b"])


@pytest.mark.parametrize(
    ("answer", "expected"), [(["a", "b", "c"], 3), (["a"], 1), ([], 0), ("a b", 2), (None, 0)]
)
def test_count_selected(answer: object, expected: int) -> None:
    assert value("count-selected(${q})", {"q": answer}) == expected


def test_string_length() -> None:
    assert value("string-length('abc')") == 3
    assert value("string-length(.)", current="Zoë") == 3
    assert value("string-length(.)", current="") == 0
    assert value("string-length(${n})", {"n": 1234}) == 4
    assert value("string-length(2.5)") == 3
    assert value("string-length(1 div 0)") == len("Infinity")
    assert value("string-length(true())") == 4


def test_if() -> None:
    assert value("if(${a} = 'x', 'yes', 'no')", {"a": "x"}) == "yes"
    assert value("if(${a} = 'x', 'yes', 'no')", {}) == "no"
    assert value("if(1, 2, 1 div 0)") == 2


def test_if_evaluates_only_the_chosen_branch() -> None:
    calls: list[str] = []

    class Recording(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            calls.append(key)
            return super().get(key, default)

    parse("if(true(), ${a}, ${b})").evaluate(Recording())
    assert calls == ["a"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("int(3.7)", 3), ("int(-3.7)", -3), ("int('12')", 12), ("int(7 div 2)", 3)],
)
def test_int_truncates_towards_zero(text: str, expected: int) -> None:
    result = value(text)
    assert result == expected
    assert type(result) is int


def test_int_of_nan_stays_nan() -> None:
    result = value("int(${q})")
    assert isinstance(result, float)
    assert math.isnan(result)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("number('12')", 12),
        ("number(' -1.5 ')", -1.5),
        ("number(true())", 1),
        ("number(false())", 0),
        ("number(${n})", 7),
    ],
)
def test_number(text: str, expected: float) -> None:
    assert value(text, {"n": 7}) == expected


@pytest.mark.parametrize("text", ["number('')", "number('abc')", "number('1e3')", "number('inf')"])
def test_number_of_non_decimal_text_is_nan(text: str) -> None:
    result = value(text)
    assert isinstance(result, float)
    assert math.isnan(result)


def test_true_and_false() -> None:
    assert value("true()") is True
    assert value("false()") is False


# --------------------------------------------------------------------------- real forms


@pytest.mark.parametrize(
    ("text", "answers", "current", "expected"),
    [
        (
            "${age} >= 18 and selected(${services}, 'legal')",
            {"age": 19, "services": ["legal"]},
            None,
            True,
        ),
        (
            "${age} >= 18 and selected(${services}, 'legal')",
            {"age": 17, "services": ["legal"]},
            None,
            False,
        ),
        ("${age} >= 18 and selected(${services}, 'legal')", {"services": ["legal"]}, None, False),
        (". > 0 and . < 150", {}, 30, True),
        (". > 0 and . < 150", {}, 0, False),
        ("count-selected(${q}) <= 3", {"q": ["a", "b", "c"]}, None, True),
        ("count-selected(${q}) <= 3", {"q": ["a", "b", "c", "d"]}, None, False),
        ("count-selected(${q}) <= 3", {}, None, True),
        ("string-length(.) <= 20", {}, "short answer", True),
        ("string-length(.) <= 20", {}, "a much longer answer here", False),
        ("not(selected(${x}, 'none')) or ${y} = 'a'", {"x": ["none"], "y": "a"}, None, True),
        ("not(selected(${x}, 'none')) or ${y} = 'a'", {"x": ["none"], "y": "b"}, None, False),
        ("not(selected(${x}, 'none')) or ${y} = 'a'", {"x": ["food"]}, None, True),
        ('${consent} = "OK"', {"consent": "OK"}, None, True),
        (
            "selected(${respondent_marital}, \u2018other\u2019)",
            {"respondent_marital": "other"},
            None,
            True,
        ),
        (". <= (${hh_mem} - ${r1_c1} - ${r1_c2})", {"hh_mem": 6, "r1_c1": 2, "r1_c2": 1}, 3, True),
        (". <= (${hh_mem} - ${r1_c1} - ${r1_c2})", {"hh_mem": 6, "r1_c1": 2, "r1_c2": 1}, 4, False),
        ("${felt_safe} >= 4", {"felt_safe": 5}, None, True),
        ("${felt_safe} >= 4", {"felt_safe": "_pnts"}, None, False),
    ],
)
def test_expressions_from_real_forms(
    text: str, answers: dict[str, object], current: object, expected: bool
) -> None:
    assert parse(text).is_true(answers, current) is expected


def test_evaluation_is_fast_enough_for_reports() -> None:
    expression = parse("${age} >= 18 and selected(${services}, 'legal') or ${felt_safe} != ''")
    responses: list[dict[str, object]] = [
        {"age": n % 90, "services": ["legal", "health"], "felt_safe": n % 5} for n in range(20_000)
    ]
    started = time.perf_counter()
    hits = sum(expression.is_true(answers) for answers in responses)
    elapsed = time.perf_counter() - started
    assert hits == 20_000
    # A tree walk that re-parsed or re-resolved names would take many times longer.
    assert elapsed < 1.0


def test_expression_can_be_built_from_a_tree() -> None:
    expression = Expression("${a} = .", Binary("=", Reference("a", 0), Current(7), 5))
    assert expression.is_true({"a": "x"}, current="x")
    assert expression == parse("${a} = .")


# --------------------------------------------------------------------------- functions


def same_value(found: object, expected: object) -> bool:
    """Equal values; numbers compare as numbers (an int and the equal float are the same)."""
    if isinstance(expected, bool) or isinstance(found, bool):
        return found is expected
    if isinstance(expected, int | float) and isinstance(found, int | float):
        return (math.isnan(found) and math.isnan(expected)) or found == expected
    return found == expected


@pytest.mark.parametrize(("text", "answers", "expected"), CASES)
def test_functions_and_values_as_odk_reads_them(
    text: str, answers: dict[str, object], expected: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expressions, "today", lambda: TODAY)
    found = parse(text).evaluate(answers)
    assert same_value(found, expected), f"{text} with {answers}: {found!r}, not {expected!r}"


def test_today_is_the_utc_day_of_answering() -> None:
    before = datetime.datetime.now(datetime.UTC).date().isoformat()
    found = parse("today()").evaluate({})
    after = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert found in {before, after}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regex(${a}, ${b})", "regex() needs its pattern written as text in quotes"),
        ("regex(${a}, '[')", "regex() pattern is not valid"),
        ("regex(${a}, '(?P<n>x)')", "is not understood by ODK and browsers"),
        ("regex(${a}, '(?i)x')", "is not understood by ODK and browsers"),
        ("regex(${a}, 'x\\Z')", "is not understood by ODK and browsers"),
        ("round()", "round() takes 1 to 2 arguments, not 0"),
        ("max()", "max() takes at least 1 argument, not 0"),
        ("coalesce(${a})", "coalesce() takes 2 arguments, not 1"),
    ],
)
def test_function_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse(text)
    assert message in raised.value.message
