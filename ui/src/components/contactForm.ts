// The add/edit form of a contact: name, company, numbers (one a line), e-mail, note, tags.
// Every value goes into inputs as .value, never as markup (names come from imported files).

import { toBackendError } from "../lib/backend";
import { h, nextId } from "../lib/dom";
import { t, type MessageKey } from "../lib/i18n";
import type { Contact, ContactInput } from "../lib/types";
import { errorText } from "./notifier";
import { button } from "./ui";

/** Numbers from the textarea: one a line (commas and semicolons split too), blanks dropped. */
export function parseNumbers(text: string): string[] {
  return text
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Tags from "vip, tedarikçi": trimmed, without repeats or blanks. */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(",")) {
    const tag = raw.trim();
    if (tag !== "" && !out.includes(tag)) out.push(tag);
  }
  return out;
}

function orNull(s: string): string | null {
  const v = s.trim();
  return v === "" ? null : v;
}

export interface FormValues {
  name: string;
  company: string;
  numbers: string;
  email: string;
  note: string;
  tags: string;
}

export function valuesOf(c: Contact | null, extraNumber: string | null = null): FormValues {
  const numbers = c ? c.numbers.map((n) => n.raw) : [];
  if (extraNumber) numbers.push(extraNumber);
  return {
    name: c?.name ?? "",
    company: c?.company ?? "",
    numbers: numbers.join("\n"),
    email: c?.email ?? "",
    note: c?.note ?? "",
    tags: c ? c.tags.join(", ") : "",
  };
}

/** What the engine stores for these values; labels of numbers the user kept are kept. */
export function inputOf(v: FormValues, before: Contact | null): ContactInput {
  return {
    name: v.name.trim(),
    company: orNull(v.company),
    numbers: parseNumbers(v.numbers).map((raw) => ({ raw, label: before?.numbers.find((n) => n.raw === raw)?.label ?? null })),
    email: orNull(v.email),
    note: orNull(v.note),
    tags: parseTags(v.tags),
  };
}

export interface ContactFormOptions {
  contact: Contact | null;
  /** A call's number to add (prefilled on a new contact). */
  number?: string | null;
  /** Stores the input; a rejection is shown in the form (worded from its code). */
  onSave: (input: ContactInput) => Promise<unknown>;
  onCancel: () => void;
}

const FIELDS: readonly { key: keyof FormValues; label: MessageKey; multiline?: boolean; type?: string }[] = [
  { key: "name", label: "contacts.field.name" },
  { key: "company", label: "contacts.field.company" },
  { key: "numbers", label: "contacts.field.numbers", multiline: true },
  { key: "email", label: "contacts.field.email", type: "email" },
  { key: "note", label: "contacts.field.note", multiline: true },
  { key: "tags", label: "contacts.field.tags" },
];

/** The form as a card; resolves nothing itself, the view decides what a save does. */
export function contactForm(o: ContactFormOptions): { el: HTMLElement; focus: () => void } {
  const initial = valuesOf(o.contact, o.contact ? null : (o.number ?? null));
  const titleId = nextId("cform");
  const inputs = new Map<keyof FormValues, HTMLInputElement | HTMLTextAreaElement>();
  const fields = FIELDS.map((f) => {
    const id = nextId(`cf-${f.key}`);
    const input = f.multiline
      ? h("textarea", { id, class: "text-input wide", testid: `contact-${f.key}`, attrs: { rows: 3 } })
      : h("input", { id, class: "text-input wide", testid: `contact-${f.key}`, attrs: { type: f.type ?? "text", autocomplete: "off" } });
    input.value = initial[f.key];
    inputs.set(f.key, input);
    return h("div", { class: "field" }, h("label", { class: "field-label", attrs: { for: id }, text: t(f.label) }), input);
  });
  const error = h("p", { class: "field-error", testid: "contact-form-error", attrs: { role: "alert" } });
  const values = (): FormValues => {
    const v = {} as FormValues;
    for (const [k, input] of inputs) v[k] = input.value;
    return v;
  };
  const save = button({
    label: t("contacts.save"),
    variant: "primary",
    testid: "contact-save",
    onClick: () => void submit(),
  });
  const submit = async () => {
    const v = values();
    if (v.name.trim() === "") {
      error.textContent = t("errcode.contact_no_name");
      inputs.get("name")?.focus();
      return;
    }
    error.textContent = "";
    save.disabled = true;
    try {
      await o.onSave(inputOf(v, o.contact));
    } catch (e) {
      error.textContent = errorText(toBackendError(e));
    } finally {
      save.disabled = false;
    }
  };
  const el = h(
    "form",
    {
      class: "card contact-form",
      testid: "contact-form",
      attrs: { "aria-labelledby": titleId, novalidate: true },
      on: {
        submit: (e) => {
          e.preventDefault();
          void submit();
        },
        keydown: (e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            o.onCancel();
          }
        },
      },
    },
    h("h2", { class: "card-title", id: titleId, text: o.contact ? t("contacts.form.edit") : t("contacts.form.new") }),
    h("div", { class: "contact-form-grid" }, ...fields),
    error,
    h("div", { class: "card-actions" }, button({ label: t("action.cancel"), testid: "contact-cancel", onClick: () => o.onCancel() }), save),
  );
  return { el, focus: () => inputs.get("name")?.focus() };
}
