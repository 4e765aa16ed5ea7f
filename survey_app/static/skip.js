// Questions that depend on an answer on the same page appear only when they apply. Without
// JavaScript they are always shown and the server ignores answers that do not apply.
// The server hands each condition over as JSON (survey_app/web/enhance.py); this evaluator
// follows the server's (survey_app/definitions/expressions.py) rule for rule: XPath 1.0 values
// as ODK applies them, fields read as the server reads them (answers.parse_answer).
(function () {
  "use strict";
  var NUMBER = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;
  var DATE = /^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*$/;
  var ISO = /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$/;
  var SPACE = /[ \t\r\n]+/g;
  // Digits the server reads as digits (Python's int() and float()), in the scripts in use.
  var ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xa66, 0xae6, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xe50, 0xed0, 0xf20, 0x1040, 0x17e0, 0x1810, 0xff10];

  function digits(text) {
    return text.replace(/\p{Nd}/gu, function (digit) {
      var code = digit.codePointAt(0);
      for (var i = 0; i < ZEROS.length; i += 1) {
        if (code >= ZEROS[i] && code <= ZEROS[i] + 9) { return String(code - ZEROS[i]); }
      }
      return "x";  // a digit of a script not listed: not a number here, as on neither side
    });
  }
  function dateNumber(text) {
    var m = DATE.exec(text);
    if (!m) { return NaN; }
    var year = +m[1], month = +m[2], day = +m[3];
    var d = new Date(Date.UTC(2000, month - 1, day));
    d.setUTCFullYear(year);
    if (year < 1 || d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 ||
        d.getUTCDate() !== day) { return NaN; }
    return d.getTime() / 86400000;
  }
  function num(v) {
    if (typeof v === "string") {
      var text = digits(v);
      return NUMBER.test(text) ? parseFloat(text) : dateNumber(v);
    }
    return typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  function bool(v) {
    if (typeof v === "string") { return v !== ""; }
    if (typeof v === "number") { return v !== 0 && !isNaN(v); }
    return v;
  }
  function plain(text) {  // 1e21 and 1e-7 written out, as XPath string() does
    var m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
    if (!m) { return text; }
    var all = m[2] + (m[3] || ""), exponent = +m[4];
    if (exponent >= 0) {
      return m[1] + all + new Array(exponent - all.length + 2).join("0");
    }
    return m[1] + "0." + new Array(-exponent).join("0") + all;
  }
  function str(v) {
    if (typeof v === "string") { return v; }
    if (typeof v === "boolean") { return v ? "true" : "false"; }
    if (isNaN(v)) { return "NaN"; }
    if (!isFinite(v)) { return v > 0 ? "Infinity" : "-Infinity"; }
    return v === 0 ? "0" : plain(String(v));
  }
  function equal(a, b) {
    if (typeof a === "boolean" || typeof b === "boolean") { return bool(a) === bool(b); }
    if (typeof a === "string" && typeof b === "string") { return a === b; }
    return num(a) === num(b);
  }
  function chosen(v) { return str(v).split(/\s+/).filter(function (x) { return x !== ""; }); }
  function daysIn(year, month) {
    if (month === 2) { return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28; }
    return [4, 6, 9, 11].indexOf(month) !== -1 ? 30 : 31;
  }
  function before(earlier, later) {  // ISO dates, compared at the precision they share
    var shared = Math.min(earlier.length, later.length);
    return earlier.slice(0, shared) < later.slice(0, shared);
  }
  function chars(text) { return Array.from(text); }
  // The day of answering in UTC, as the server takes it.
  var clock = {today: function () { return new Date().toISOString().slice(0, 10); }};
  function clamp(bound, length) {
    var position = bound < 0 ? length + bound : bound;
    return Math.trunc(Math.min(Math.max(position, 0), length));
  }
  function round(values) {
    var x = num(values[0]);
    var places = values.length > 1 ? Math.trunc(num(values[1])) : 0;
    if (!isFinite(x) || !isFinite(places)) { return x; }
    var scale = Math.pow(10, places), shifted = x * scale + 0.5;
    if (!isFinite(shifted) || !isFinite(scale) || scale === 0) { return x; }
    return Math.floor(shifted) / scale;
  }
  function extreme(pick) {
    return function (values) {
      var numbers = values.map(num);
      return numbers.some(isNaN) ? NaN : pick.apply(Math, numbers);
    };
  }
  function regex(pattern) {
    try { return new RegExp(pattern, "u"); } catch (error) { return new RegExp(pattern); }
  }
  var ONE = {
    "not": function (v) { return !bool(v); },
    "count-selected": function (v) { return chosen(v).length; },
    "string-length": function (v) { return chars(str(v)).length; },
    "int": function (v) { var n = num(v); return isFinite(n) ? Math.trunc(n) : n; },
    "number": num,
    "string": str,
    "sum": num,
    "floor": function (v) { return Math.floor(num(v)); },
    "ceiling": function (v) { return Math.ceil(num(v)); },
    "abs": function (v) { return Math.abs(num(v)); },
    "normalize-space": function (v) { return str(v).replace(SPACE, " ").replace(/^ +| +$/g, ""); },
    "boolean": bool,
    "boolean-from-string": function (v) { return str(v) === "true" || str(v) === "1"; }
  };
  var MANY = {
    "concat": function (values) { return values.map(str).join(""); },
    "min": extreme(Math.min),
    "max": extreme(Math.max),
    "round": round,
    "pow": function (values) {
      var a = num(values[0]), b = num(values[1]);
      return isNaN(a) || isNaN(b) ? NaN : Math.pow(a, b);
    },
    "contains": function (values) { return str(values[0]).indexOf(str(values[1])) !== -1; },
    "starts-with": function (values) { return str(values[0]).startsWith(str(values[1])); },
    "ends-with": function (values) { return str(values[0]).endsWith(str(values[1])); },
    "substr": function (values) {
      var text = chars(str(values[0])), bounds = values.slice(1).map(num);
      if (bounds.some(isNaN)) { return ""; }
      var end = bounds.length > 1 ? clamp(bounds[1], text.length) : text.length;
      return text.slice(clamp(bounds[0], text.length), end).join("");
    },
    "selected-at": function (values) {
      var list = chosen(values[0]), index = num(values[1]);
      if (!isFinite(index) || Math.trunc(index) < 0 || Math.trunc(index) >= list.length) {
        return "";
      }
      return list[Math.trunc(index)];
    }
  };
  var ARITHMETIC = {
    "+": function (a, b) { return a + b; },
    "-": function (a, b) { return a - b; },
    "*": function (a, b) { return a * b; },
    "div": function (a, b) { return a / b; },
    "mod": function (a, b) { return a % b; },
    "<": function (a, b) { return a < b; },
    "<=": function (a, b) { return a <= b; },
    ">": function (a, b) { return a > b; },
    ">=": function (a, b) { return a >= b; }
  };

  // `read(node)` gives the value of a reference node ["r", name, kind, min, max].
  function evaluate(node, read) {
    var op = node[0];
    if (op === "s" || op === "n") { return node[1]; }
    if (op === "r") { return read(node); }
    if (op === "neg") { return -num(evaluate(node[1], read)); }
    if (op === "and") { return bool(evaluate(node[1], read)) && bool(evaluate(node[2], read)); }
    if (op === "or") { return bool(evaluate(node[1], read)) || bool(evaluate(node[2], read)); }
    if (op === "=") { return equal(evaluate(node[1], read), evaluate(node[2], read)); }
    if (op === "!=") { return !equal(evaluate(node[1], read), evaluate(node[2], read)); }
    if (op in ARITHMETIC) {
      return ARITHMETIC[op](num(evaluate(node[1], read)), num(evaluate(node[2], read)));
    }
    var name = node[1], args = node.slice(2);
    if (name === "true") { return true; }
    if (name === "false") { return false; }
    if (name === "today") { return clock.today(); }
    if (name === "if") {
      return evaluate(args[bool(evaluate(args[0], read)) ? 1 : 2], read);
    }
    if (name === "coalesce") {
      var first = evaluate(args[0], read);
      return str(first) !== "" ? first : evaluate(args[1], read);
    }
    if (name === "selected") {
      var wanted = str(evaluate(args[1], read)).trim();
      return chosen(evaluate(args[0], read)).indexOf(wanted) !== -1;
    }
    if (name === "regex") {
      return regex(args[1][1]).test(str(evaluate(args[0], read)));
    }
    var values = args.map(function (arg) { return evaluate(arg, read); });
    return name in MANY ? MANY[name](values) : ONE[name](values[0]);
  }

  // What the server stores for a field's raw values (answers.parse_answer), as an expression
  // reads it: "" when skipped, declined ("prefer not to say") or not a valid answer.
  function answer(raw, kind, low, high) {
    var values = raw.map(function (v) { return v.trim(); }).filter(function (v) { return v; });
    if (!values.length || values.indexOf("_pnts") !== -1) { return ""; }
    if (kind === "m") { return values.join(" "); }
    if (values.length > 1) { return ""; }
    var value = values[0];
    if (kind === "c") { return value; }
    if (kind === "k") { return parseInt(value, 10); }
    if (kind === "t" || kind === "l") {
      var text = value.replace(/\r\n?/g, "\n").normalize("NFC")
        .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "").trim();
      return kind === "t" ? text.split(/\s+/).join(" ") : text;
    }
    if (kind === "i" || kind === "f") {
      var typed = digits(value.replace(/[ \u00a0]/g, ""));
      if (kind === "f") { typed = typed.replace(/[\u066b,]/g, "."); }
      var shape = kind === "i" ? /^[+-]?\d+$/ : /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
      if (typed.length > 30 || !shape.test(typed)) { return ""; }
      var number = parseFloat(typed);
      if ((low !== null && number < low) || (high !== null && number > high)) { return ""; }
      return number;
    }
    var length = +kind.slice(1), m = ISO.exec(value);
    if (!m || value.length < length) { return ""; }
    var month = +(m[2] || 1), day = +(m[3] || 1);
    if (month < 1 || month > 12 || day < 1 || day > daysIn(+m[1], month)) { return ""; }
    var kept = value.slice(0, length);
    if ((low !== null && before(kept, low)) || (high !== null && before(high, kept))) { return ""; }
    return value.slice(0, length);
  }

  window.surveySkipLogic = {evaluate: evaluate, answer: answer, text: str, clock: clock};

  var form = document.querySelector("form[data-skip-logic]");
  if (!form) { return; }
  function raw(name) {
    var found = [];
    var fields = form.elements[name];
    if (!fields) { return found; }
    if (fields.length === undefined || fields.tagName === "SELECT") { fields = [fields]; }
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if ((field.type === "radio" || field.type === "checkbox") ? field.checked : true) {
        found.push(field.value);
      }
    }
    return found;
  }
  function read(node) { return answer(raw(node[1]), node[2], node[3], node[4]); }
  var dependents = form.querySelectorAll("[data-relevant]");
  function update() {
    for (var i = 0; i < dependents.length; i += 1) {
      var rule = JSON.parse(dependents[i].getAttribute("data-relevant"));
      dependents[i].hidden = !bool(evaluate(rule, read));
    }
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
