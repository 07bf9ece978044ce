/**
 * Renders Block Kit as plain text for the local console, numbering every button and input so a
 * person can press `3` or fill `2 Budget cut` at the prompt.
 */

type Json = Record<string, unknown>;

export interface RenderedButton {
  kind: "button";
  label: string;
  actionId: string;
  blockId: string | undefined;
  value: string | undefined;
}

export interface RenderedSelect {
  kind: "select";
  label: string;
  actionId: string;
  blockId: string | undefined;
  options: { text: string; value: string }[];
}

export interface RenderedInput {
  kind: "input";
  label: string;
  actionId: string;
  blockId: string;
  /** plain_text_input, number_input, static_select … */
  element: string;
  options: { text: string; value: string }[];
  initial: string | undefined;
  optional: boolean;
  /** The app asked to hear each edit (`dispatch_action`), as Slack sends on Enter. */
  dispatchAction: boolean;
}

export type Control = RenderedButton | RenderedSelect | RenderedInput;

export interface Rendered {
  lines: string[];
  controls: Control[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Json | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Slack mrkdwn → terminal text: user mentions, links and emphasis made readable. */
export function plainMrkdwn(text: string): string {
  return text
    .replace(
      /<@([A-Z0-9]+)(\|[^>]+)?>/g,
      (_m, id: string, name?: string) => `@${name ? name.slice(1) : id}`,
    )
    .replace(
      /<#([A-Z0-9]+)(\|[^>]+)?>/g,
      (_m, id: string, name?: string) => `#${name ? name.slice(1) : id}`,
    )
    .replace(/<!date\^\d+\^[^|]*\|([^>]+)>/g, "$1")
    .replace(/<([^|>]+)\|([^>]+)>/g, "$2 ($1)")
    .replace(/<(https?:[^>]+)>/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function textOf(t: unknown): string {
  const o = obj(t);
  if (!o) return "";
  return plainMrkdwn(str(o.text) ?? "");
}

function options(el: Json): { text: string; value: string }[] {
  const out: { text: string; value: string }[] = [];
  for (const o of arr(el.options)) {
    const opt = obj(o);
    if (opt) out.push({ text: textOf(opt.text), value: str(opt.value) ?? "" });
  }
  for (const g of arr(el.option_groups)) {
    for (const o of arr(obj(g)?.options)) {
      const opt = obj(o);
      if (opt) out.push({ text: textOf(opt.text), value: str(opt.value) ?? "" });
    }
  }
  return out;
}

function elementControl(
  el: Json,
  blockId: string | undefined,
  controls: Control[],
): string | undefined {
  const type = str(el.type);
  const actionId = str(el.action_id) ?? "";
  if (type === "button") {
    controls.push({
      kind: "button",
      label: textOf(el.text),
      actionId,
      blockId,
      value: str(el.value),
    });
    return `[${controls.length}] ${textOf(el.text)}`;
  }
  if (type === "static_select" || type === "overflow") {
    const opts = options(el);
    const label = textOf(el.placeholder) || opts.map((o) => o.text).join(" | ") || "choose";
    controls.push({ kind: "select", label, actionId, blockId, options: opts });
    return `[${controls.length}] ${label} ▾`;
  }
  return undefined;
}

/** Renders message or view blocks; control numbers continue from `start`. */
export function renderBlocks(blocks: unknown[], controls: Control[] = []): Rendered {
  const lines: string[] = [];
  for (const b of blocks) {
    const block = obj(b);
    if (!block) continue;
    const blockId = str(block.block_id);
    switch (str(block.type)) {
      case "header":
        lines.push(`== ${textOf(block.text)} ==`);
        break;
      case "section": {
        const text = textOf(block.text);
        if (text) lines.push(...text.split("\n"));
        const fields = arr(block.fields).map(textOf).filter(Boolean);
        for (let i = 0; i < fields.length; i += 2) {
          lines.push(`  ${fields.slice(i, i + 2).join("   |   ")}`);
        }
        const acc = obj(block.accessory);
        const label = acc ? elementControl(acc, blockId, controls) : undefined;
        if (label) lines.push(`  ${label}`);
        break;
      }
      case "context":
        lines.push(`  ${arr(block.elements).map(textOf).filter(Boolean).join("  ·  ")}`);
        break;
      case "divider":
        lines.push("  ──────────");
        break;
      case "image": {
        const file = str(obj(block.slack_file)?.id) ?? str(block.image_url) ?? "";
        lines.push(`  [image: ${str(block.alt_text) ?? ""}${file ? ` (${file})` : ""}]`);
        break;
      }
      case "actions": {
        const labels = arr(block.elements)
          .map((e) => (obj(e) ? elementControl(obj(e) as Json, blockId, controls) : undefined))
          .filter(Boolean);
        if (labels.length > 0) lines.push(`  ${labels.join("  ")}`);
        break;
      }
      case "input": {
        const el = obj(block.element) ?? {};
        const opts = options(el);
        const initial =
          str(el.initial_value) ??
          str(obj(el.initial_option)?.value) ??
          (typeof el.initial_value === "number" ? String(el.initial_value) : undefined);
        controls.push({
          kind: "input",
          label: textOf(block.label),
          actionId: str(el.action_id) ?? "",
          blockId: blockId ?? "",
          element: str(el.type) ?? "plain_text_input",
          options: opts,
          initial,
          optional: block.optional === true,
          dispatchAction: block.dispatch_action === true,
        });
        const choice = opts.length > 0 ? ` (one of: ${opts.map((o) => o.value).join(", ")})` : "";
        const hint = textOf(block.hint);
        lines.push(
          `  {${controls.length}} ${textOf(block.label)}${block.optional ? " (optional)" : ""}: ${initial ?? "_"}${choice}${hint ? `  — ${hint}` : ""}`,
        );
        break;
      }
      default:
        break;
    }
  }
  return { lines, controls };
}

/** A message or a view, with its own numbering. */
export function renderSurface(surface: Json): Rendered {
  const blocks = arr(surface.blocks);
  if (blocks.length === 0) {
    return {
      lines: str(surface.text) ? plainMrkdwn(str(surface.text) as string).split("\n") : [],
      controls: [],
    };
  }
  return renderBlocks(blocks);
}
