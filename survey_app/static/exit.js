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
