// An editable list of rule values (apps, countries, os or categories, include or exclude) as chips:
// type and press Enter or comma (or paste a list), × removes one, Backspace in the empty box removes the
// last. Values are sent as typed; the server normalises them ("Canada" → "CA") and names bad ones by
// index, which this marks on the chip.
import { h, setChildren } from "./view.ts";

/** Chips drawn at most at once: a 10,000-value list stays one short task to render. */
const SHOWN = 200;

export interface RulesInput {
  el: HTMLElement;
  values(): string[];
  set(values: readonly string[]): void;
  /** Marks values by index (from `extensions.fields`); an empty map clears the marks. */
  setErrors(errors: Map<number, string>): void;
}

export function rulesInput(id: string, label: string, initial: readonly string[], onChange: () => void): RulesInput {
  let values = [...initial];
  let errors = new Map<number, string>();
  let showAll = false;
  const list = h("span", { class: "chip-list" });
  const input = h("input", {
    id,
    class: "chip-input",
    autocomplete: "off",
    "aria-label": label,
    placeholder: "add…",
  });
  const messages = h("span", { class: "field-error chip-errors", hidden: true });
  const el = h("div", { class: "rules-input", "data-rules": id }, list, input, messages);

  const draw = () => {
    const shown = showAll ? values : values.slice(0, SHOWN);
    setChildren(
      list,
      ...shown.map((value, i) =>
        h(
          "span",
          {
            class: errors.has(i) ? "chip chip-edit invalid" : "chip chip-edit",
            "data-value": value,
            title: errors.get(i),
          },
          value,
          h(
            "button",
            { type: "button", class: "chip-remove", "aria-label": `remove ${value}`, onclick: () => remove(i) },
            "×",
          ),
        ),
      ),
      values.length > shown.length
        ? h(
            "button",
            { type: "button", class: "chip more", onclick: showEverything },
            `+${values.length - shown.length} more`,
          )
        : null,
    );
    const problems = [...errors].map(([i, message]) => `“${values[i] ?? "?"}”: ${message}`);
    messages.hidden = problems.length === 0;
    messages.textContent = problems.join("; ");
  };

  const showEverything = () => {
    showAll = true;
    draw();
  };

  const changed = () => {
    errors = new Map();
    draw();
    onChange();
  };

  const remove = (index: number) => {
    values.splice(index, 1);
    changed();
  };

  const addTyped = () => {
    const parts = input.value
      .split(/[,\n]+/)
      .map((v) => v.trim())
      .filter(Boolean);
    input.value = "";
    const fresh = parts.filter((v) => !values.includes(v));
    if (fresh.length === 0) return;
    values.push(...fresh);
    changed();
  };

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      addTyped();
    } else if (event.key === "Backspace" && input.value === "" && values.length > 0) {
      remove(values.length - 1);
    }
  });
  input.addEventListener("blur", addTyped);
  input.addEventListener("paste", () => setTimeout(addTyped));
  el.addEventListener("click", (event) => {
    if (event.target === el || event.target === list) input.focus();
  });
  draw();

  return {
    el,
    values: () => {
      addTyped();
      return [...values];
    },
    set(next) {
      values = [...next];
      errors = new Map();
      draw();
    },
    setErrors(next) {
      errors = next;
      if ([...next.keys()].some((i) => i >= SHOWN)) showAll = true;
      draw();
    },
  };
}
