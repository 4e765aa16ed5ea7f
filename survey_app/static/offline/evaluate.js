// Evaluating the survey's expressions on the device, with the server's value rules.
//
// The server parses every expression (survey_app/definitions/expressions.py) and sends its tree
// (definitions/device_form.py): ["ref", name], ["current"], ["name", name], ["str", text],
// ["num", n], ["neg", x], ["op", operator, left, right], ["call", function, ...arguments].
// This file only evaluates trees, following expressions._compile: XPath 1.0 values as ODK
// applies them. tests/test_offline_page.py compares it with Python on generated answers.

export const PREFER_NOT_TO_SAY = "_pnts";
const NUMERIC_TEXT = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;

function answerValue(raw) {
  if (raw === null || raw === undefined) {
    return "";
  }
  if (typeof raw === "string") {
    return raw === PREFER_NOT_TO_SAY ? "" : raw;
  }
  if (Array.isArray(raw)) {
    return raw.map(String).join(" ");
  }
  return raw;
}

function toNumber(value) {
  if (typeof value === "string") {
    return NUMERIC_TEXT.test(value) ? parseFloat(value) : NaN;
  }
  if (typeof value === "boolean") {
    return value ? 1 : 0;
  }
  return value;
}

function toBoolean(value) {
  if (typeof value === "string") {
    return value !== "";
  }
  if (typeof value === "number") {
    return value !== 0 && !Number.isNaN(value);
  }
  return Boolean(value);
}

function toText(value) {
  if (typeof value === "string") {
    return value;
  }
  if (typeof value === "boolean") {
    return value ? "true" : "false";
  }
  if (Number.isNaN(value)) {
    return "NaN";
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? "Infinity" : "-Infinity";
  }
  if (Number.isInteger(value)) {
    return BigInt(value).toString();
  }
  // Without an exponent, as Python's format(Decimal(repr(x)), "f").
  return value.toLocaleString("en-US", { useGrouping: false, maximumFractionDigits: 20 });
}

function equal(left, right) {
  if (typeof left === "boolean" || typeof right === "boolean") {
    return toBoolean(left) === toBoolean(right);
  }
  if (typeof left === "string" && typeof right === "string") {
    return left === right;
  }
  return toNumber(left) === toNumber(right);
}

function divide(left, right) {
  if (right === 0) {
    if (left === 0 || Number.isNaN(left)) {
      return NaN;
    }
    return (Math.sign(left) || 1) * (Object.is(right, -0) ? -Infinity : Infinity);
  }
  return left / right;
}

function modulo(left, right) {
  if (right === 0 || !Number.isFinite(left) || Number.isNaN(right)) {
    return NaN;
  }
  return left % right; // keeps the dividend's sign, like math.fmod
}

function truncate(value) {
  return Number.isFinite(value) ? Math.trunc(value) : value;
}

function selectedValues(value) {
  return toText(value).split(/\s+/).filter((part) => part !== "");
}

const ARITHMETIC = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  div: divide,
  mod: modulo,
};
const ORDERING = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};
const SINGLE = {
  not: (value) => !toBoolean(value),
  "count-selected": (value) => selectedValues(value).length,
  "string-length": (value) => Array.from(toText(value)).length,
  int: (value) => truncate(toNumber(value)),
  number: toNumber,
};

export function evaluate(tree, answers, current, names) {
  const [kind] = tree;
  const run = (node) => evaluate(node, answers, current, names);
  switch (kind) {
    case "ref":
      return answerValue(answers[tree[1]]);
    case "current":
      return answerValue(current);
    case "name":
      return names ? answerValue(names[tree[1]]) : "";
    case "str":
    case "num":
      return tree[1];
    case "neg":
      return -toNumber(run(tree[1]));
    case "op": {
      const [, operator, left, right] = tree;
      if (operator === "and") {
        return toBoolean(run(left)) && toBoolean(run(right));
      }
      if (operator === "or") {
        return toBoolean(run(left)) || toBoolean(run(right));
      }
      if (operator === "=") {
        return equal(run(left), run(right));
      }
      if (operator === "!=") {
        return !equal(run(left), run(right));
      }
      if (operator in ORDERING) {
        return ORDERING[operator](toNumber(run(left)), toNumber(run(right)));
      }
      return ARITHMETIC[operator](toNumber(run(left)), toNumber(run(right)));
    }
    case "call": {
      const [, fn, ...args] = tree;
      if (fn === "true") {
        return true;
      }
      if (fn === "false") {
        return false;
      }
      if (fn === "if") {
        return toBoolean(run(args[0])) ? run(args[1]) : run(args[2]);
      }
      if (fn === "selected") {
        const wanted = toText(run(args[1])).trim();
        return selectedValues(run(args[0])).includes(wanted);
      }
      return SINGLE[fn](run(args[0]));
    }
    default:
      throw new Error(`unknown expression node ${kind}`);
  }
}

export function isTrue(tree, answers, current, names) {
  return tree === null || tree === undefined || toBoolean(evaluate(tree, answers, current, names));
}
