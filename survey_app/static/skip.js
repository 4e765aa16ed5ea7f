// Questions that depend on an answer on the same page appear only when they apply. Without
// JavaScript they are always shown and the server ignores answers that do not apply.
// Each condition comes from the server as its parsed tree (survey_app/web/enhance.py) and is
// evaluated by the devices' one evaluator (offline/evaluate.js, the server's rules); this file
// only reads the page's fields as the server parses them (definitions/answers.parse_answer).
import { asciiDigits, evaluate, toBoolean } from "./offline/evaluate.js";

const ISO = /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$/;

function daysIn(year, month) {
  if (month === 2) {
    return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function before(earlier, later) {
  // ISO dates, compared at the precision they share
  const shared = Math.min(earlier.length, later.length);
  return earlier.slice(0, shared) < later.slice(0, shared);
}

function readDate(value, length, low, high) {
  const match = ISO.exec(value);
  if (!match || value.length < length) {
    return "";
  }
  const month = Number(match[2] || 1);
  const day = Number(match[3] || 1);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(Number(match[1]), month)) {
    return "";
  }
  const kept = value.slice(0, length);
  if ((low !== null && before(kept, low)) || (high !== null && before(high, kept))) {
    return "";
  }
  return kept;
}

function readNumber(value, kind, low, high) {
  let typed = asciiDigits(value.replace(/[ \u00a0]/g, ""));
  if (kind === "f") {
    typed = typed.replace(/[\u066b,]/g, ".");
  }
  const shape = kind === "i" ? /^[+-]?\d+$/ : /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
  if (typed.length > 30 || !shape.test(typed)) {
    return "";
  }
  const number = parseFloat(typed);
  if ((low !== null && number < low) || (high !== null && number > high)) {
    return "";
  }
  return number;
}

// What the server stores for a field's raw values, as an expression reads it: "" when
// skipped, declined ("prefer not to say") or not a valid answer (the page then comes back).
export function answer(raw, kind, low, high) {
  const values = raw.map((value) => value.trim()).filter((value) => value !== "");
  if (!values.length || values.includes("_pnts")) {
    return "";
  }
  if (kind === "m") {
    return values.join(" ");
  }
  if (values.length > 1) {
    return "";
  }
  const value = values[0];
  if (kind === "c") {
    return value;
  }
  if (kind === "k") {
    return parseInt(value, 10);
  }
  if (kind === "t" || kind === "l") {
    const text = value
      .replace(/\r\n?/g, "\n")
      .normalize("NFC")
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")
      .trim();
    return kind === "t" ? text.split(/\s+/).join(" ") : text;
  }
  if (kind === "i" || kind === "f") {
    return readNumber(value, kind, low, high);
  }
  return readDate(value, Number(kind.slice(1)), low, high);
}

const form = document.querySelector("form[data-skip-logic]");

function raw(name) {
  let fields = form.elements[name];
  if (!fields) {
    return [];
  }
  if (fields.length === undefined || fields.tagName === "SELECT") {
    fields = [fields];
  }
  return Array.from(fields)
    .filter((field) => (field.type === "radio" || field.type === "checkbox" ? field.checked : true))
    .map((field) => field.value);
}

if (form) {
  const dependents = Array.from(form.querySelectorAll("[data-relevant]"));
  const update = () => {
    for (const dependent of dependents) {
      const { tree, fields } = JSON.parse(dependent.getAttribute("data-relevant"));
      const answers = {};
      for (const [name, [kind, low, high]] of Object.entries(fields)) {
        answers[name] = answer(raw(name), kind, low, high);
      }
      dependent.hidden = !toBoolean(evaluate(tree, answers));
    }
  };
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}
