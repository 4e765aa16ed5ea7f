// One interview on the device: the survey drawn from the form the server sent
// (definitions/device_form.py), answers read from it with the server's rules (answers.py,
// assist.read_entry): skip logic, the options a choice_filter leaves, required answers,
// consent, ranges, constraints.
// Answers live only in this page's memory (the DOM and one object) until they are sealed.
// Each question is drawn and read as its type's `widget` says (QuestionKind.offline_widget):
// its layout, the input it is typed in and how its value is read, so a question type
// registered on the server is drawn here without this file naming it.

import { PREFER_NOT_TO_SAY, isTrue } from "./evaluate.js";

function text(localised, lang, fallback) {
  if (!localised) {
    return "";
  }
  return localised[lang] ?? localised[fallback] ?? Object.values(localised)[0] ?? "";
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    node.append(child);
  }
  return node;
}

function options(question, words) {
  if (question.widget.options.length) {
    return question.widget.options.map((o) => ({ value: o.value, label: words[o.word] }));
  }
  return question.choices.map((c) => ({ value: c.value, label: c.labelText, names: c.names }));
}

function fieldInput(question, attributes) {
  const input = question.widget.input;
  if (input === "textarea") {
    return element("textarea", { ...attributes, rows: 4 });
  }
  if (input === "number") {
    return element("input", { ...attributes, type: "text", inputmode: "decimal" });
  }
  return element("input", { ...attributes, type: input });
}

function questionField(question, lang, fallback, words) {
  const id = `q-${question.id}`;
  const box = element("div", { class: "question", "data-question": question.id });
  const label = text(question.label, lang, fallback);
  if (question.widget.layout === "note") {
    box.append(element("p", { class: "note" }, label));
    return box;
  }
  const hint = text(question.hint, lang, fallback);
  const error = element("p", { class: "error", id: `${id}-error`, hidden: true });
  if (question.widget.layout === "field") {
    box.append(element("label", { for: id }, label + (question.required ? ` (${words.required})` : "")));
    if (hint) {
      box.append(element("p", { class: "hint" }, hint));
    }
    const attributes = { id, name: question.id, "aria-describedby": `${id}-error`, dir: "auto" };
    box.append(fieldInput(question, attributes), error);
    return box;
  }
  const fieldset = element("fieldset", { "aria-describedby": `${id}-error` });
  fieldset.append(element("legend", {}, label + (question.required ? ` (${words.required})` : "")));
  if (hint) {
    fieldset.append(element("p", { class: "hint" }, hint));
  }
  const kind = question.widget.many ? "checkbox" : "radio";
  const all = options(question, words);
  const ends = question.scaleLabels;
  if (ends && all.length) {
    // As templates/questions/rating.html: the ends' labels beside the first and last point.
    const [low, high] = [text(ends.low, lang, fallback), text(ends.high, lang, fallback)];
    all[0] = { ...all[0], label: low ? `${all[0].label} (${low})` : all[0].label };
    const last = all.length - 1;
    all[last] = { ...all[last], label: high ? `${all[last].label} (${high})` : all[last].label };
  }
  if (question.other) {
    all.push({ value: "other", label: words.other });
  }
  if (question.preferNotToSay) {
    all.push({ value: PREFER_NOT_TO_SAY, label: words.pnts });
  }
  all.forEach((option, index) => {
    const optionId = `${id}-${index}`;
    fieldset.append(
      element("div", { class: "option", "data-value": option.value },
        element("input", { type: kind, id: optionId, name: question.id, value: option.value }),
        element("label", { for: optionId }, option.label)),
    );
  });
  if (question.other) {
    const otherId = `${id}-other`;
    fieldset.append(
      element("label", { for: otherId }, words.otherText),
      element("input", { type: "text", id: otherId, name: question.other, dir: "auto" }),
    );
  }
  fieldset.append(error);
  box.append(fieldset);
  return box;
}

// The form for `survey` (one entry of the bundle) in the survivor's language `lang`.
export function renderForm(container, survey, lang, words) {
  const form = survey.form;
  const fallback = form.defaultLanguage;
  container.replaceChildren();
  for (const page of form.pages) {
    const section = element("section", { class: "page", "data-page": page.id });
    const title = text(page.title, lang, fallback);
    if (title) {
      section.append(element("h3", {}, title));
    }
    const repetition = page.repetition;
    if (repetition) {
      // As the server's pages mark it: the option's label, then "2 of 3" or "Repetition 2".
      const which = repetition.answered
        ? words.repetition.replace("{n}", repetition.index)
        : words.repetitionOf.replace("{n}", repetition.index).replace("{count}", repetition.count);
      const choice = text(repetition.choice, lang, fallback);
      section.append(element("p", { class: "repetition" }, choice ? `${choice} · ${which}` : which));
    }
    const intro = text(page.intro, lang, fallback);
    if (intro) {
      section.append(element("p", {}, intro));
    }
    for (const question of page.questions) {
      for (const choice of question.choices) {
        choice.labelText = text(choice.label, lang, fallback);
      }
      section.append(questionField(question, lang, fallback, words));
    }
    container.append(section);
  }
}

function rawValues(container, name) {
  const fields = container.querySelectorAll(`[name="${CSS.escape(name)}"]`);
  const values = [];
  for (const field of fields) {
    if ((field.type === "radio" || field.type === "checkbox") && !field.checked) {
      continue;
    }
    const value = field.value.trim();
    if (value) {
      values.push(value);
    }
  }
  return values;
}

class InvalidAnswer extends Error {}

function cleanText(value, type) {
  let cleaned = value.replace(/\r\n?/g, "\n").normalize("NFC");
  cleaned = Array.from(cleaned).filter((c) => c === "\n" || c === "\t" || !/\p{Cc}/u.test(c)).join("").trim();
  return type === "text" ? cleaned.split(/\s+/).filter(Boolean).join(" ") : cleaned;
}

function parse(question, raw, words, maxText) {
  if (raw.length === 0) {
    return null;
  }
  if (raw.includes(PREFER_NOT_TO_SAY)) {
    if (raw.length > 1) {
      throw new InvalidAnswer(words.conflicting);
    }
    return PREFER_NOT_TO_SAY;
  }
  const reading = question.widget.reading;
  if (reading === "m") {
    const allowed = [...question.choices.map((c) => c.value), ...(question.other ? ["other"] : [])];
    return allowed.filter((value) => raw.includes(value));
  }
  const [value] = raw;
  if (reading === "k") {
    return parseInt(value, 10);
  }
  if (reading === "c") {
    return value;
  }
  if (reading === "t" || reading === "l") {
    const cleaned = cleanText(value, reading === "t" ? "text" : "longtext");
    const limit = question.maxLength === null ? maxText : Math.min(question.maxLength, maxText);
    if (Array.from(cleaned).length > limit) {
      throw new InvalidAnswer(words.tooLong);
    }
    return cleaned || null;
  }
  if (reading === "i" || reading === "f") {
    const compact = value.replace(/[\s\u00a0]/g, "").replace(",", ".");
    const pattern = reading === "i" ? /^[-+]?\d+$/ : /^[-+]?(\d+(\.\d*)?|\.\d+)$/;
    if (!pattern.test(compact)) {
      throw new InvalidAnswer(words.notANumber);
    }
    const number = reading === "i" ? parseInt(compact, 10) : parseFloat(compact);
    if ((typeof question.min === "number" && number < question.min)
        || (typeof question.max === "number" && number > question.max)) {
      throw new InvalidAnswer(words.outOfRange);
    }
    return number;
  }
  return value; // as the input gives it: a date (YYYY-MM-DD), a time, or another type's value
}

function applicable(pages, answers) {
  const kept = {};
  for (const page of pages) {
    if (!isTrue(page.relevant, kept)) {
      continue;
    }
    for (const question of page.questions) {
      if (!isTrue(question.relevant, kept)) {
        continue;
      }
      for (const key of [question.id, question.other]) {
        if (key && Object.prototype.hasOwnProperty.call(answers, key)) {
          kept[key] = answers[key];
        }
      }
    }
  }
  return kept;
}

// Hide the options the question's choice_filter leaves out, given the answers so far, as
// answers.visible_choices does; an option picked before it was left out is unpicked.
function filterChoices(box, question, values, combined) {
  const shown = new Set(
    question.choices
      .filter((choice) => isTrue(question.choiceFilter, combined, undefined, choice.names))
      .map((choice) => choice.value),
  );
  for (const choice of question.choices) {
    const option = box.querySelector(`[data-value="${CSS.escape(choice.value)}"]`);
    const hidden = !shown.has(choice.value);
    option.hidden = hidden;
    if (hidden) {
      option.querySelector("input").checked = false;
    }
  }
  const left = (item) => shown.has(item) || item === "other" || item === PREFER_NOT_TO_SAY;
  const value = values[question.id];
  const kept = Array.isArray(value) ? value.filter(left) : value;
  if (value !== undefined && (Array.isArray(kept) ? kept.length === 0 : !left(kept))) {
    delete values[question.id];
  } else if (value !== undefined) {
    values[question.id] = kept;
  }
}

// Read the answers page by page, as the server does, and show which questions apply.
// Returns {answers, errors: {questionId: message}, declined}.
export function readForm(container, survey, words, maxText) {
  const answers = {};
  const errors = {};
  let declined = false;
  for (const page of survey.form.pages) {
    const section = container.querySelector(`[data-page="${CSS.escape(page.id)}"]`);
    const pageApplies = isTrue(page.relevant, answers);
    section.hidden = !pageApplies;
    if (!pageApplies) {
      continue;
    }
    const values = {};
    for (const question of page.questions) {
      if (question.widget.layout === "note") {
        continue;
      }
      try {
        const value = parse(question, rawValues(container, question.id), words, maxText);
        if (value !== null) {
          values[question.id] = value;
        }
        if (question.other) {
          const other = cleanText(rawValues(container, question.other).join(" "), "text");
          const choseOther = value === "other" || (Array.isArray(value) && value.includes("other"));
          if (other && choseOther) {
            values[question.other] = other;
          }
        }
      } catch (error) {
        if (!(error instanceof InvalidAnswer)) {
          throw error;
        }
        errors[question.id] = error.message;
      }
    }
    const combined = { ...answers, ...values };
    for (const question of page.questions) {
      const box = section.querySelector(`[data-question="${CSS.escape(question.id)}"]`);
      const applies = isTrue(question.relevant, combined);
      box.hidden = !applies;
      if (!applies) {
        delete values[question.id];
        delete errors[question.id];
        continue;
      }
      if (question.choiceFilter) {
        filterChoices(box, question, values, combined);
      }
      if (question.widget.layout === "note" || question.id in errors) {
        continue;
      }
      const value = values[question.id];
      if (value === undefined) {
        if (question.required || question.type === "consent") {
          errors[question.id] = words.answerThis;
        }
        continue;
      }
      if (question.constraint && value !== PREFER_NOT_TO_SAY
          && !isTrue(question.constraint, { ...combined, [question.id]: value }, value)) {
        errors[question.id] = text(question.constraintMessage, survey.lang, survey.form.defaultLanguage)
          || words.constraint;
      }
    }
    Object.assign(answers, values);
    if (page.questions.some((q) => q.type === "consent" && answers[q.id] === "no")) {
      declined = true;
      break;
    }
  }
  return { answers: applicable(survey.form.pages, answers), errors, declined };
}

export function showErrors(container, errors) {
  for (const box of container.querySelectorAll("[data-question]")) {
    const message = errors[box.getAttribute("data-question")];
    const error = box.querySelector(".error");
    if (error) {
      error.hidden = !message;
      error.textContent = message || "";
    }
  }
}
