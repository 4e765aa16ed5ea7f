// Quick exit: pressing Shift three times within a few seconds leaves the page at once, as the
// button does. The page is hidden first and the history entry replaced, so Back does not return.
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) { return; }
  var presses = 0;
  var timer = null;
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.body.className += " hidden-on-exit";
    document.title = "";
    window.location.replace(link.href);
  }
  link.addEventListener("click", leave);
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") { presses = 0; return; }
    presses += 1;
    clearTimeout(timer);
    timer = setTimeout(function () { presses = 0; }, 5000);
    if (presses >= 3) { leave(); }
  });
}());
// When a page comes back with errors, move focus to their summary so it is read out first.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
// Questions that depend on an answer on the same page appear only when they apply. Without
// JavaScript they are always shown and the server ignores answers that do not apply.
(function () {
  "use strict";
  var form = document.querySelector("form[data-skip-logic]");
  if (!form) { return; }
  function values(name) {
    var found = [];
    var fields = form.elements[name];
    if (!fields) { return found; }
    if (fields.length === undefined || fields.tagName === "SELECT") { fields = [fields]; }
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if ((field.type === "radio" || field.type === "checkbox") ? field.checked : field.value !== "") {
        found.push(field.value);
      }
    }
    return found;
  }
  function holds(rule) {
    switch (rule[0]) {
      case "and": return holds(rule[1]) && holds(rule[2]);
      case "or": return holds(rule[1]) || holds(rule[2]);
      case "not": return !holds(rule[1]);
      case "sel": return values(rule[1]).indexOf(rule[2]) !== -1;
      case "eq": return values(rule[1]).join(" ") === rule[2];
      case "ne": return values(rule[1]).join(" ") !== rule[2];
    }
    return true;
  }
  var dependents = form.querySelectorAll("[data-relevant]");
  function update() {
    for (var i = 0; i < dependents.length; i += 1) {
      dependents[i].hidden = !holds(JSON.parse(dependents[i].getAttribute("data-relevant")));
    }
  }
  form.addEventListener("change", update);
  update();
}());
