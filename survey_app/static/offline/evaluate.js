// Evaluating the survey's expressions on the device, with the server's value rules.
//
// The server parses every expression (survey_app/definitions/expressions.py) and sends its tree
// (definitions/device_form.py): ["ref", name], ["current"], ["name", name], ["str", text],
// ["num", n], ["neg", x], ["op", operator, left, right], ["call", function, ...arguments].
// This file only evaluates trees, following expressions._compile: XPath 1.0 values as ODK
// applies them. It is the one evaluator on devices: the offline page and the respondent pages'
// same-page skip logic (static/skip.js) both use it. tests/test_offline_page.py compares it
// with Python on generated answers, tests/test_skip_logic_browser.py on every case of
// tests/support/expression_cases.py.

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

const DATE_TEXT = /^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*$/;
// Zeros of the scripts whose digits Python's float() reads (the server's number()).
const ZEROS = [
  0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xa66, 0xae6, 0xbe6, 0xc66, 0xce6, 0xd66, 0xe50, 0xed0,
  0xf20, 0x1040, 0x17e0, 0x1810, 0xff10,
];

// The day of answering in UTC, as the server takes it (tests set `clock.today`).
export const clock = { today: () => new Date().toISOString().slice(0, 10) };

export function asciiDigits(text) {
  return text.replace(/\p{Nd}/gu, (digit) => {
    const code = digit.codePointAt(0);
    const zero = ZEROS.find((start) => code >= start && code <= start + 9);
    return zero === undefined ? "x" : String(code - zero); // a script not listed: not a number
  });
}

// A date written 2026-11-30 reads as days since 1970-01-01, as ODK reads dates.
export function dateNumber(text) {
  const match = DATE_TEXT.exec(text);
  if (!match) {
    return NaN;
  }
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  const valid =
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day;
  return valid ? date.getTime() / 86400000 : NaN;
}

function toNumber(value) {
  if (typeof value === "string") {
    const text = asciiDigits(value);
    return NUMERIC_TEXT.test(text) ? parseFloat(text) : dateNumber(value);
  }
  if (typeof value === "boolean") {
    return value ? 1 : 0;
  }
  return value;
}

export function toBoolean(value) {
  if (typeof value === "string") {
    return value !== "";
  }
  if (typeof value === "number") {
    return value !== 0 && !Number.isNaN(value);
  }
  return Boolean(value);
}

export function toText(value) {
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
  // The shortest digits that read back as the same number (Python's repr), without an
  // exponent, as Python's format(Decimal(repr(x)), "f").
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(String(value));
  if (!match) {
    return String(value);
  }
  const digits = match[2] + (match[3] || "");
  const exponent = Number(match[4]);
  return `${match[1]}0.${"0".repeat(-exponent - 1)}${digits}`;
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
const XPATH_SPACE = /[ \t\r\n]+/g;

function clamp(bound, length) {
  const position = bound < 0 ? length + bound : bound;
  return Math.trunc(Math.min(Math.max(position, 0), length));
}

function round(values) {
  const number = toNumber(values[0]);
  const digits = values.length > 1 ? truncate(toNumber(values[1])) : 0;
  if (!Number.isFinite(number) || !Number.isFinite(digits)) {
    return number;
  }
  // XPath round(): halves go up (floor of x + 0.5).
  const scale = 10 ** digits;
  const shifted = number * scale + 0.5;
  if (!Number.isFinite(shifted) || !Number.isFinite(scale) || scale === 0) {
    return number;
  }
  return Math.floor(shifted) / scale;
}

function extreme(pick) {
  return (values) => {
    const numbers = values.map(toNumber);
    return numbers.some(Number.isNaN) ? NaN : pick(...numbers);
  };
}

function pattern(source) {
  // The server refuses patterns the two would read differently (expressions._FOREIGN_REGEX).
  try {
    return new RegExp(source, "u");
  } catch {
    return new RegExp(source);
  }
}

const SINGLE = {
  not: (value) => !toBoolean(value),
  "count-selected": (value) => selectedValues(value).length,
  "string-length": (value) => Array.from(toText(value)).length,
  int: (value) => truncate(toNumber(value)),
  number: toNumber,
  string: toText,
  sum: toNumber, // without repeats a question is one value
  floor: (value) => Math.floor(toNumber(value)),
  ceiling: (value) => Math.ceil(toNumber(value)),
  abs: (value) => Math.abs(toNumber(value)),
  "normalize-space": (value) => toText(value).replace(XPATH_SPACE, " ").replace(/^ +| +$/g, ""),
  boolean: toBoolean,
  "boolean-from-string": (value) => toText(value) === "true" || toText(value) === "1",
};
const MANY = {
  concat: (values) => values.map(toText).join(""),
  min: extreme(Math.min),
  max: extreme(Math.max),
  round,
  pow: (values) => {
    const [base, exponent] = values.map(toNumber);
    return Number.isNaN(base) || Number.isNaN(exponent) ? NaN : base ** exponent;
  },
  contains: (values) => toText(values[0]).includes(toText(values[1])),
  "starts-with": (values) => toText(values[0]).startsWith(toText(values[1])),
  "ends-with": (values) => toText(values[0]).endsWith(toText(values[1])),
  substr: (values) => {
    const text = Array.from(toText(values[0]));
    const bounds = values.slice(1).map(toNumber);
    if (bounds.some(Number.isNaN)) {
      return "";
    }
    const end = bounds.length > 1 ? clamp(bounds[1], text.length) : text.length;
    return text.slice(clamp(bounds[0], text.length), end).join("");
  },
  "selected-at": (values) => {
    const chosen = selectedValues(values[0]);
    const index = toNumber(values[1]);
    if (!Number.isFinite(index) || Math.trunc(index) < 0 || Math.trunc(index) >= chosen.length) {
      return "";
    }
    return chosen[Math.trunc(index)];
  },
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
      if (fn === "today") {
        return clock.today();
      }
      if (fn === "if") {
        return toBoolean(run(args[0])) ? run(args[1]) : run(args[2]);
      }
      if (fn === "coalesce") {
        const first = run(args[0]);
        return toText(first) !== "" ? first : run(args[1]);
      }
      if (fn === "selected") {
        const wanted = toText(run(args[1])).trim();
        return selectedValues(run(args[0])).includes(wanted);
      }
      if (fn === "regex") {
        return pattern(args[1][1]).test(toText(run(args[0])));
      }
      if (fn in MANY) {
        return MANY[fn](args.map(run));
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
