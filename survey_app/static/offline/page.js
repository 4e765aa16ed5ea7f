// The offline entry page: status, one interview at a time, sealing on save, the upload queue.
// Answers exist only in this page's memory (the form and the object read from it) until
// seal.js has sealed them; the queue (queue.js) and the caches hold sealed blobs only.

import * as queue from "./queue.js";
import { renderForm, readForm, showErrors } from "./form.js";
import { encodePayload, fromBase64, newResponseId, paddedLength, seal, toBase64 } from "./seal.js";

const words = JSON.parse(document.getElementById("offline-words").dataset.words);
const $ = (id) => document.getElementById(id);
const BACKOFF_MAX_SECONDS = 60;

let bundle = null;
let current = null; // {survey, programme, site, lang}: no answers are kept here
let uploading = false;
let failures = 0;
let retryTimer = null;

function say(id, message) {
  $(id).textContent = message;
  if (id === "status-upload") {
    $("sign-in-again").hidden = message !== words.signIn;
  }
}

function fill(text, n) {
  return text.replace("{n}", String(n));
}

// --- status ---------------------------------------------------------------------------------

async function showQueue() {
  const records = await queue.all();
  const refused = records.filter((r) => r.refused);
  let message = fill(words.queued, records.length - refused.length);
  if (refused.length) {
    message += ` · ${fill(words.refused, refused.length)}: ${refused.map((r) => r.refused).join("; ")}`;
  }
  say("status-queue", message);
  return records;
}

function showNetwork() {
  say("status-network", navigator.onLine ? words.online : words.offline);
}

// --- the surveys ----------------------------------------------------------------------------

let earlier = []; // versions replaced on the server since this device saw them: {programme, survey, replaced}

function surveys() {
  const found = [];
  for (const programme of bundle ? bundle.programmes : []) {
    for (const survey of programme.surveys) {
      found.push({ programme, survey });
    }
    for (const kept of earlier.filter((k) => k.programme === programme.id)) {
      found.push({ programme, survey: kept.survey, replaced: kept.replaced });
    }
  }
  return found;
}

// Each survey version this device was given stays for the retired-key grace after the server
// replaced it, so that an interview written on its paper form can still be entered on it. The
// server does not record when a version was replaced: the device notes when it first saw it
// gone. Kept in Cache Storage beside the bundle: survey definitions, never an answer.
const KEPT = "offline-versions";
const KEPT_URL = "kept-versions.json";

async function keepVersions() {
  const cache = await caches.open(KEPT);
  const stored = await cache.match(KEPT_URL);
  const previous = stored ? await stored.json() : [];
  const now = Date.now();
  const current = bundle.programmes.flatMap((p) => p.surveys.map((s) => ({ programme: p.id, survey: s })));
  const key = (k) => `${k.programme} ${k.survey.id} ${k.survey.version}`;
  const currentKeys = new Set(current.map(key));
  earlier = previous
    .filter((k) => !currentKeys.has(key(k)))
    .map((k) => ({ ...k, replaced: k.replaced ?? now }))
    .filter((k) => now - k.replaced < bundle.retiredKeyGraceDays * 86400000);
  await cache.put(KEPT_URL, new Response(JSON.stringify([...earlier, ...current])));
}

function option(value, label) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = label;
  return node;
}

function chooseSurvey() {
  const chosen = surveys()[Number($("choose-survey").value)];
  if (!chosen) {
    return;
  }
  const { survey } = chosen;
  $("choose-site").replaceChildren(...survey.sites.map((site) => option(site, site)));
  $("choose-lang").replaceChildren(
    ...survey.form.languages.map((language) => option(language.code, language.name)),
  );
  paperLink();
}

function paperLink() {
  const chosen = surveys()[Number($("choose-survey").value)];
  $("paper-link").href = chosen ? chosen.survey.paper[$("choose-lang").value] : "";
  $("paper-link").hidden = !chosen || Boolean(chosen.replaced); // the server prints the current one
}

// Fetch each assigned survey's paper forms through the worker, which keeps the last good copy
// to open with no network; forget those of surveys no longer assigned.
async function keepPapers() {
  if (!("serviceWorker" in navigator)) {
    return;
  }
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) { // the first visit: the worker takes the page soon
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  const wanted = new Set(surveys().flatMap(({ survey }) => Object.values(survey.paper)));
  await Promise.all([...wanted].map((url) => fetch(url, { credentials: "same-origin" }).catch(() => null)));
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      if (url.pathname.includes("/paper/") && !wanted.has(url.pathname + url.search)) {
        await cache.delete(request);
      }
    }
  }
}

async function loadBundle() {
  try {
    const response = await fetch("bundle.json", { credentials: "same-origin", redirect: "manual" });
    if (response.ok && response.type === "basic") {
      bundle = await response.json();
    }
  } catch (error) {
    bundle = null;
  }
  if (bundle) {
    await keepVersions();
  }
  const found = surveys();
  $("no-surveys").hidden = found.length > 0;
  $("choose").hidden = found.length === 0;
  say("status-refreshed", bundle ? new Date(bundle.refreshed).toLocaleString() : words.never);
  $("choose-survey").replaceChildren(
    ...found.map(({ programme, survey, replaced }, index) => {
      const title = survey.form.title[document.documentElement.lang] || Object.values(survey.form.title)[0];
      const when = replaced ? ` · ${words.replaced.replace("{date}", new Date(replaced).toLocaleDateString())}` : "";
      return option(String(index), `${title} (${programme.name})${when}`);
    }),
  );
  chooseSurvey();
}

// --- one interview --------------------------------------------------------------------------

function start(event) {
  event.preventDefault();
  const chosen = surveys()[Number($("choose-survey").value)];
  const lang = $("choose-lang").value;
  current = { ...chosen, site: $("choose-site").value, lang };
  current.survey.lang = lang;
  const language = chosen.survey.form.languages.find((l) => l.code === lang);
  const container = $("questions");
  container.setAttribute("lang", lang);
  container.setAttribute("dir", language ? language.direction : "auto");
  renderForm(container, chosen.survey, lang, words);
  readForm(container, chosen.survey, words, words.maxText); // hides what does not apply yet
  $("start").hidden = true;
  $("entry").hidden = false;
  say("outcome", "");
}

function forget() {
  // Drop every trace of the interview from the page: the form's fields and the chosen survey.
  $("questions").replaceChildren();
  $("entry-form").reset();
  current = null;
  $("entry").hidden = true;
  $("start").hidden = false;
}

function utcDay(now) {
  return now.toISOString().slice(0, 10);
}

// The coarse period the server keeps in the clear (responses.coarse_period).
function period(now, granularity) {
  const day = utcDay(now);
  if (granularity === "day") {
    return day;
  }
  if (granularity === "month") {
    return day.slice(0, 7);
  }
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this ISO week
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date - yearStart) / 86400000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

async function save(event) {
  event.preventDefault();
  if (!current) {
    return;
  }
  const container = $("questions");
  const { answers, errors, declined } = readForm(container, current.survey, words, words.maxText);
  showErrors(container, errors);
  if (Object.keys(errors).length) {
    say("outcome", words.fix);
    return;
  }
  if (declined) {
    forget();
    say("outcome", words.declined);
    return;
  }
  const now = new Date();
  const { survey, programme } = current;
  const payload = encodePayload(answers, {
    site: current.site, channel: "assisted", language: current.lang, day: utcDay(now),
  });
  const responseId = newResponseId();
  const blob = await seal(
    fromBase64(programme.key.public),
    { responseId, surveyId: survey.id, surveyVersion: survey.version },
    payload,
    paddedLength(payload, answers, survey.padding),
  );
  payload.fill(0);
  await queue.add({
    id: responseId,
    survey: survey.id,
    version: survey.version,
    period: period(now, bundle.period),
    sealed: toBase64(blob),
  });
  forget();
  say("outcome", words.saved);
  await showQueue();
  upload();
}

// --- upload ---------------------------------------------------------------------------------

// The session's form token, as last fetched: the quick exit sends it, so that the server ends
// the session everywhere (it does not for an exit without one, which another site could send).
let formToken = null;

async function token() {
  const response = await fetch("token", { credentials: "same-origin", redirect: "manual" });
  if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
    return null;
  }
  if (!response.ok) {
    throw new Error(`token: ${response.status}`);
  }
  formToken = (await response.json()).csrf;
  return formToken;
}

function batches(records) {
  // Within the server's request size and count; base64 blobs plus a little JSON each.
  const limit = Math.floor((bundle ? bundle.maxRequestBytes : 65536) * 0.8);
  const most = bundle ? bundle.maxBatch : 20;
  const out = [];
  let batch = [];
  let size = 0;
  for (const record of records) {
    const item = { id: record.id, survey: record.survey, version: record.version,
      period: record.period, sealed: record.sealed };
    const length = JSON.stringify(item).length + 1;
    if (batch.length && (size + length > limit || batch.length >= most)) {
      out.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(item);
    size += length;
  }
  if (batch.length) {
    out.push(batch);
  }
  return out;
}

function retryLater() {
  failures += 1;
  const seconds = Math.min(BACKOFF_MAX_SECONDS, 2 ** (failures - 1));
  say("status-upload", fill(words.retrying, seconds));
  clearTimeout(retryTimer);
  retryTimer = setTimeout(upload, seconds * 1000);
}

async function upload() {
  if (uploading) {
    return;
  }
  const waiting = (await queue.all()).filter((record) => !record.refused);
  if (!waiting.length) {
    say("status-upload", words.idle);
    return;
  }
  if (!navigator.onLine) {
    say("status-upload", words.offline);
    return;
  }
  uploading = true;
  let sent = 0;
  try {
    const csrf = await token();
    if (csrf === null) {
      say("status-upload", words.signIn);
      return;
    }
    say("status-upload", words.uploading);
    for (const batch of batches(waiting)) {
      const response = await fetch("upload", {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ responses: batch }),
      });
      if (response.type === "opaqueredirect" || response.status === 403) {
        say("status-upload", words.signIn);
        return;
      }
      if (!response.ok) {
        throw new Error(`upload: ${response.status}`);
      }
      const { results } = await response.json();
      const done = results.filter((r) => r.outcome !== "refused").map((r) => r.id);
      await queue.remove(done);
      for (const result of results.filter((r) => r.outcome === "refused")) {
        await queue.refuse(result.id, result.reason);
      }
      sent += done.length;
      await showQueue();
    }
    failures = 0;
    say("status-upload", fill(words.uploaded, sent));
  } catch (error) {
    retryLater();
  } finally {
    uploading = false;
    await showQueue();
  }
}

// --- leaving --------------------------------------------------------------------------------

function quickExit() {
  const target = $("offline-exit").getAttribute("data-exit-url");
  forget();
  bundle = null;
  document.title = "";
  document.body.replaceChildren();
  const gone = () => window.location.replace(target);
  // Ends the session on the server; the sealed queue stays (no Clear-Site-Data "storage").
  const body = new FormData();
  if (formToken) {
    body.append("csrf_token", formToken);
  }
  fetch("exit", { method: "POST", body, credentials: "same-origin", keepalive: true }).then(
    gone,
    gone,
  );
  setTimeout(gone, 1500);
}

async function discard() {
  if (window.confirm(words.discardConfirm)) {
    await queue.clear();
    await showQueue();
  }
}

// --- start ----------------------------------------------------------------------------------

async function main() {
  $("offline-exit").addEventListener("click", quickExit);
  token().catch(() => {}); // for the quick exit; offline, the exit cannot reach the server anyway
  if (!globalThis.crypto || !crypto.subtle) {
    say("outcome", words.noWebCrypto);
    return;
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
  }
  showNetwork();
  window.addEventListener("online", () => { showNetwork(); failures = 0; upload(); });
  window.addEventListener("offline", showNetwork);
  $("choose-survey").addEventListener("change", chooseSurvey);
  $("choose-lang").addEventListener("change", paperLink);
  $("choose").addEventListener("submit", start);
  $("entry-form").addEventListener("submit", save);
  $("entry-form").addEventListener("change", () => {
    if (current) {
      readForm($("questions"), current.survey, words, words.maxText); // shows what applies
    }
  });
  $("cancel").addEventListener("click", forget);
  $("upload-now").addEventListener("click", () => { failures = 0; upload(); });
  $("discard-queue").addEventListener("click", discard);
  await loadBundle();
  keepPapers();
  await showQueue();
  await upload(); // whatever waited since the page was last open
}

main();
