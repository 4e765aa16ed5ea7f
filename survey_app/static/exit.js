// Quick exit, on a par with GOV.UK's "Exit this page". The button (a form, so it works without
// JavaScript too) or pressing Shift three times within 5 seconds leaves at once: an overlay
// hides the page, the server is told to forget this page's draft (and the browser to clear
// the site's cookies, cache and storage), and the tab goes to a neutral site with
// location.replace, so this page's history entry is replaced. Each Shift press is shown by the
// dots beside the button and announced to screen readers ("Shift, press 2 more times...").
(function () {
  "use strict";
  var button = document.getElementById("quick-exit");
  var form = button && button.form;
  if (!form) { return; }
  var status = document.getElementById("exit-status");
  var dots = document.getElementById("exit-presses");
  var tip = document.getElementById("exit-tip");
  var presses = 0;
  var timer = null;
  var leaving = false;
  tip.hidden = false;
  dots.hidden = false;
  function say(text) { status.textContent = text; }
  function show(count) {
    var marks = dots.children;
    for (var i = 0; i < marks.length; i += 1) {
      marks[i].className = i < count ? "on" : "";
    }
  }
  function leave(event) {
    if (event) { event.preventDefault(); }
    if (leaving) { return; }
    leaving = true;
    var overlay = document.createElement("div");
    overlay.className = "exit-overlay";
    overlay.textContent = status.getAttribute("data-leaving");
    overlay.setAttribute("role", "alert");
    document.body.appendChild(overlay);
    document.body.className += " leaving";
    document.title = "";
    var target = form.getAttribute("data-exit-url");
    var gone = false;
    function go() {
      if (gone) { return; }
      gone = true;
      window.location.replace(target);
    }
    try {
      var data = new FormData(form);
      data.append("beacon", "1");
      fetch(form.action, {method: "POST", body: data, keepalive: true, credentials: "same-origin"})
        .then(go, go);
    } catch (error) {
      go();
      return;
    }
    setTimeout(go, 1500);
  }
  form.addEventListener("submit", leave);
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") {
      presses = 0;
      show(0);
      return;
    }
    presses += 1;
    clearTimeout(timer);
    show(presses);
    if (presses >= 3) {
      say(status.getAttribute("data-leaving"));
      leave();
      return;
    }
    say(status.getAttribute(presses === 1 ? "data-two" : "data-one"));
    timer = setTimeout(function () {
      presses = 0;
      show(0);
      say(status.getAttribute("data-timeout"));
    }, 5000);
  });
  // A page brought back from the browser's back-forward cache would show answers that the
  // server has already forgotten: hide it and load the neutral start page instead.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.querySelector("input[name=draft]")) {
      document.body.className += " leaving";
      window.location.replace(window.location.href);
    }
  });
}());
// A page is sent once: a second tap would carry a draft key the first one already replaced.
(function () {
  "use strict";
  var forms = document.querySelectorAll("main form");
  function guard(form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  }
  for (var i = 0; i < forms.length; i += 1) { guard(forms[i]); }
  window.addEventListener("pageshow", function () {
    for (var j = 0; j < forms.length; j += 1) { forms[j].removeAttribute("data-sent"); }
  });
}());
// When a page comes back with errors, move focus to their summary so it is read out first.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
