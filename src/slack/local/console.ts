// Over 400 lines on purpose: one interactive loop whose commands, surfaces and button presses share
// the same session state; split, each part would need that state handed around.
import { randomUUID } from "node:crypto";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Services } from "../../services/index.js";
import type { BlockActionOptions, SlackDriver, ViewStateValues } from "./driver.js";
import { type Control, type Rendered, renderSurface } from "./render.js";
import type { ResponseUrlPost, SlackStandin, StandinCall } from "./standin/index.js";

/** How long the console waits for the app's answer to a command before giving the prompt back. */
const ANSWER_WAIT_MS = 8_000;

export interface ConsoleUser {
  id: string;
  name: string;
  role: string;
}

export interface ConsoleOptions {
  standin: SlackStandin;
  driver: SlackDriver;
  services: Services;
  alertChannel: string;
  users: readonly ConsoleUser[];
  input: Readable;
  output: Writable;
  /** The channel commands are typed in. */
  channelId?: string;
}

type Surface =
  | {
      kind: "message";
      channel: string;
      ts: string;
      text: string;
      blocks: unknown[];
      rendered: Rendered;
    }
  | { kind: "ephemeral"; responseId: string; blocks: unknown[]; rendered: Rendered }
  | { kind: "view"; viewId: string; view: Record<string, unknown>; rendered: Rendered };

const HELP = `Type what you would type in Slack, and a few console commands:
  /lead help                 any /lead command (try /lead top 10, /lead why <email>)
  <n>                        press button [n] on the last message or modal
  <n> <value>                pick <value> in menu [n], or fill field {n} of the open modal
  submit | cancel            submit or close the open modal
  event <email> <type> [url] send an event, e.g. event jane@acme.com demo_request
  as <name|id>               act as another user (see: users)
  users | home | help | quit`;

/**
 * A terminal that drives the real app through the local Slack stand-in: commands and button
 * presses go out as signed Slack requests, and whatever the app posts, updates or opens comes back
 * rendered as text with numbered controls.
 */
export class LocalConsole {
  private readonly rl: Interface;
  private user: ConsoleUser;
  private surface: Surface | undefined;
  private values: ViewStateValues = {};
  private readonly onCall = (call: StandinCall) => this.show(call);
  private closed = false;

  constructor(private readonly opts: ConsoleOptions) {
    const first = opts.users[0];
    if (!first) throw new Error("the local console needs at least one user");
    this.user = first;
    this.rl = createInterface({ input: opts.input, output: opts.output, terminal: false });
    opts.standin.on("call", this.onCall);
  }

  /** Mentions of the console's people read as their names: @riley, not @U0DEMOREP1. */
  private print(text = ""): void {
    const named = text.replace(/@([UW][A-Z0-9]{2,})\b/g, (m, id: string) => {
      const user = this.opts.users.find((u) => u.id === id);
      return user ? `@${user.name}` : m;
    });
    this.opts.output.write(`${named}\n`);
  }

  private prompt(): void {
    this.opts.output.write(`${this.user.name}> `);
  }

  async run(): Promise<void> {
    this.print(`Leadbot local console: the app runs as it would in Slack, with a local stand-in.`);
    this.print(
      `You are ${this.user.name} (${this.user.id}, ${this.user.role}). Alerts go to #alerts.`,
    );
    this.print(HELP);
    this.prompt();
    for await (const line of this.rl) {
      try {
        const quit = await this.handle(line.trim());
        if (quit) break;
      } catch (err) {
        this.print(`! ${(err as Error).message}`);
      }
      if (this.closed) break;
      this.prompt();
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.standin.off("call", this.onCall);
    this.rl.close();
  }

  private setSurface(surface: Surface): void {
    this.surface = surface;
    if (surface.kind === "view") this.values = this.initialValues(surface.rendered.controls);
  }

  private initialValues(controls: Control[]): ViewStateValues {
    const values: ViewStateValues = {};
    for (const c of controls) {
      if (c.kind !== "input" || c.initial === undefined) continue;
      values[c.blockId] = { [c.actionId]: this.inputValue(c, c.initial) };
    }
    return values;
  }

  private inputValue(
    c: Extract<Control, { kind: "input" }>,
    value: string,
  ): Record<string, unknown> {
    if (c.options.length > 0) {
      const opt = c.options.find(
        (o) => o.value === value || o.text.toLowerCase() === value.toLowerCase(),
      );
      if (!opt) throw new Error(`choose one of: ${c.options.map((o) => o.value).join(", ")}`);
      return {
        type: c.element,
        selected_option: { text: { type: "plain_text", text: opt.text }, value: opt.value },
      };
    }
    return { type: c.element, value };
  }

  /** Prints what the app did in Slack, as it happens. */
  private show(call: StandinCall): void {
    const p = call.params;
    const r = call.response ?? {};
    if (call.failed || r.ok === false) return;
    if (call.method === "chat.postMessage") {
      const channel = String(r.channel ?? p.channel ?? "");
      const where =
        channel === this.opts.alertChannel ? "#alerts" : channel.startsWith("D") ? "DM" : channel;
      const blocks = Array.isArray(p.blocks) ? p.blocks : [];
      const rendered = renderSurface({ text: p.text, blocks });
      this.print(`\n[${where}] ${rendered.lines.join("\n  ")}`);
      this.setSurface({
        kind: "message",
        channel,
        ts: String(r.ts ?? ""),
        text: String(p.text ?? ""),
        blocks,
        rendered,
      });
      this.prompt();
    } else if (call.method === "files.completeUploadExternal") {
      for (const f of Array.isArray(r.files) ? r.files : []) {
        const file = this.opts.standin.files().find((x) => x.id === (f as { id?: string }).id);
        if (!file) continue;
        const where = file.channels.length > 0 ? ` in ${file.channels.join(", ")}` : "";
        this.print(`\n[file${where}] ${file.title}: ${file.path ?? `${file.length} bytes`}`);
      }
      this.prompt();
    } else if (call.method === "chat.update") {
      const blocks = Array.isArray(p.blocks) ? p.blocks : [];
      const rendered = renderSurface({ text: p.text, blocks });
      this.print(`\n[updated] ${rendered.lines.join("\n  ")}`);
      this.setSurface({
        kind: "message",
        channel: String(p.channel ?? ""),
        ts: String(p.ts ?? ""),
        text: String(p.text ?? ""),
        blocks,
        rendered,
      });
      this.prompt();
    } else if (
      call.method === "views.open" ||
      call.method === "views.update" ||
      call.method === "views.push"
    ) {
      const view = (r.view ?? p.view) as Record<string, unknown>;
      const rendered = renderSurface(view);
      const title = (view.title as { text?: string } | undefined)?.text ?? "Modal";
      this.print(
        `\n┌ ${title}\n  ${rendered.lines.join("\n  ")}\n└ fill fields with "<n> <value>", then submit or cancel`,
      );
      this.setSurface({ kind: "view", viewId: String(view.id ?? ""), view, rendered });
      this.prompt();
    }
  }

  private async handle(line: string): Promise<boolean> {
    if (line === "") return false;
    if (line === "quit" || line === "exit") return true;
    if (line === "help") {
      this.print(HELP);
      return false;
    }
    if (line === "users") {
      for (const u of this.opts.users) this.print(`  ${u.name} (${u.id}, ${u.role})`);
      return false;
    }
    if (line.startsWith("as ")) {
      const who = line.slice(3).trim().toLowerCase();
      const u = this.opts.users.find(
        (x) => x.name.toLowerCase() === who || x.id.toLowerCase() === who,
      );
      if (!u)
        throw new Error(`no such user; try: ${this.opts.users.map((x) => x.name).join(", ")}`);
      this.user = u;
      this.print(`You are now ${u.name} (${u.role}).`);
      return false;
    }
    if (line.startsWith("/lead")) {
      await this.command(line.replace(/^\/lead\s*/, ""));
      return false;
    }
    if (line.startsWith("event ")) {
      await this.event(line.slice(6).trim().split(/\s+/));
      return false;
    }
    if (line === "home") {
      await this.opts.driver.event({
        type: "app_home_opened",
        user: this.user.id,
        tab: "home",
        channel: "D0HOME",
      });
      const home = await this.waitFor(
        (c) => c.method === "views.publish" && c.params.user_id === this.user.id,
      );
      if (home) {
        const view = home.params.view as Record<string, unknown>;
        const parsed = (typeof view === "string" ? JSON.parse(view) : view) as Record<
          string,
          unknown
        >;
        const rendered = renderSurface(parsed);
        this.print(rendered.lines.join("\n"));
        // Its buttons (Refresh, Review) are pressed like a modal's: the action comes from a view.
        this.setSurface({
          kind: "view",
          viewId: String(parsed.id ?? "home"),
          view: parsed,
          rendered,
        });
      } else this.print("(the home tab did not arrive)");
      return false;
    }
    if (line === "submit") {
      await this.submit();
      return false;
    }
    if (line === "cancel") {
      this.surface = undefined;
      this.print("Closed.");
      return false;
    }
    const m = /^(?:press\s+)?(\d+)(?:\s+(.+))?$/.exec(line);
    if (m) {
      await this.use(Number(m[1]), m[2]);
      return false;
    }
    this.print(`Not understood. ${HELP.split("\n")[0]}`);
    return false;
  }

  private waitFor(
    match: (c: StandinCall) => boolean,
    ms = ANSWER_WAIT_MS,
  ): Promise<StandinCall | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.opts.standin.off("call", on);
        resolve(undefined);
      }, ms);
      const on = (c: StandinCall) => {
        if (!match(c)) return;
        clearTimeout(timer);
        this.opts.standin.off("call", on);
        resolve(c);
      };
      this.opts.standin.on("call", on);
    });
  }

  /** The app's answer on a response_url, or undefined when none came in time. */
  private responseWithin(id: string): Promise<ResponseUrlPost | undefined> {
    return Promise.race([
      this.opts.standin.waitForResponse(id),
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), ANSWER_WAIT_MS).unref(),
      ),
    ]);
  }

  private async command(text: string): Promise<void> {
    const res = await this.opts.driver.command(this.user.id, text, {
      channelId: this.opts.channelId ?? "C0LOCAL01",
    });
    if (res.status !== 200) {
      this.print(`! the app answered ${res.status}: ${res.body}`);
      return;
    }
    if (res.body && res.body !== "") this.showEphemeral(undefined, res.json ?? { text: res.body });
    const id = res.responseId;
    if (!id) return;
    const answer = await Promise.race([
      this.responseWithin(id),
      this.waitFor((c) => c.method === "views.open").then(() => "view" as const),
    ]);
    if (answer && answer !== "view") this.showEphemeral(id, answer.payload);
  }

  private showEphemeral(responseId: string | undefined, payload: unknown): void {
    const p = (payload ?? {}) as Record<string, unknown>;
    const blocks = Array.isArray(p.blocks) ? p.blocks : [];
    const rendered = renderSurface({ text: p.text, blocks });
    this.print(rendered.lines.join("\n"));
    if (responseId) this.setSurface({ kind: "ephemeral", responseId, blocks, rendered });
  }

  private async event(args: string[]): Promise<void> {
    const [email, type, url] = args;
    if (!email || !type) throw new Error("usage: event <email> <type> [url]");
    const r = await this.opts.services.recordEvents([
      {
        id: `console-${randomUUID()}`,
        email,
        type,
        occurredAt: this.opts.services.clock(),
        properties: url ? { url } : {},
      },
    ]);
    if (r.errors.length > 0) {
      this.print(`! ${r.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")}`);
      return;
    }
    // The console shows the outcome at once: score the event now rather than moments later.
    const scored = await this.opts.services.scoring.flush();
    this.print(
      `recorded ${type} for ${email}${r.alerts + scored.alerts > 0 ? ` (it crossed a threshold: alert on its way)` : ""}`,
    );
  }

  private async use(n: number, value: string | undefined): Promise<void> {
    const s = this.surface;
    if (!s) throw new Error("nothing to press yet: run a /lead command first");
    const control = s.rendered.controls[n - 1];
    if (!control) throw new Error(`there is no [${n}] here`);
    if (control.kind === "input") {
      if (value === undefined) throw new Error(`give a value: ${n} <value>`);
      const state = this.inputValue(control, value);
      this.values[control.blockId] = { [control.actionId]: state };
      this.print(`  ${control.label} = ${value}`);
      if (control.dispatchAction && s.kind === "view") {
        // Slack sends a block action when Enter is pressed in such a field; the app answers it,
        // for instance by updating an impact preview with views.update.
        const option = state.selected_option as BlockActionOptions["selectedOption"] | undefined;
        await this.opts.driver.blockAction(this.user.id, {
          actionId: control.actionId,
          blockId: control.blockId,
          elementType: control.element,
          ...(option ? { selectedOption: option } : { value }),
          view: {
            id: s.viewId,
            callback_id: String(s.view.callback_id ?? ""),
            private_metadata: String(s.view.private_metadata ?? ""),
            state: { values: this.values },
          },
        });
      }
      return;
    }
    const selected =
      control.kind === "select"
        ? control.options.find(
            (o) => o.value === value || o.text.toLowerCase() === (value ?? "").toLowerCase(),
          )
        : undefined;
    if (control.kind === "select" && !selected) {
      throw new Error(`choose one of: ${control.options.map((o) => o.value).join(", ")}`);
    }
    const common = {
      actionId: control.actionId,
      ...(control.blockId ? { blockId: control.blockId } : {}),
      ...(control.kind === "button" && control.value !== undefined ? { value: control.value } : {}),
      ...(selected
        ? {
            elementType: "static_select",
            selectedOption: {
              text: { type: "plain_text" as const, text: selected.text },
              value: selected.value,
            },
          }
        : {}),
    };
    if (s.kind === "view") {
      const view = {
        id: s.viewId,
        callback_id: String(s.view.callback_id ?? ""),
        private_metadata: String(s.view.private_metadata ?? ""),
        state: { values: this.values },
      };
      await this.opts.driver.blockAction(this.user.id, { ...common, view });
      return;
    }
    const res = await this.opts.driver.blockAction(this.user.id, {
      ...common,
      message: {
        ts: s.kind === "message" ? s.ts : `${Date.now() / 1000}`,
        blocks: s.blocks,
        ...(s.kind === "message" ? { text: s.text } : {}),
      },
      channel: { id: s.kind === "message" ? s.channel : (this.opts.channelId ?? "C0LOCAL01") },
    });
    const id = res.responseId;
    if (!id) return;
    const answer = await this.responseWithin(id);
    if (answer) this.showEphemeral(id, answer.payload);
  }

  private async submit(): Promise<void> {
    const s = this.surface;
    if (s?.kind !== "view") throw new Error("no modal is open");
    const missing = s.rendered.controls.filter(
      (c): c is Extract<Control, { kind: "input" }> =>
        c.kind === "input" && !c.optional && !this.values[c.blockId],
    );
    if (missing.length > 0) throw new Error(`fill ${missing.map((c) => c.label).join(", ")} first`);
    const res = await this.opts.driver.viewSubmission(
      this.user.id,
      {
        id: s.viewId,
        callback_id: String(s.view.callback_id ?? ""),
        private_metadata: String(s.view.private_metadata ?? ""),
        blocks: Array.isArray(s.view.blocks) ? s.view.blocks : [],
      },
      this.values,
    );
    const body = (res.json ?? {}) as { response_action?: string; errors?: Record<string, string> };
    if (body.response_action === "errors" && body.errors) {
      for (const [block, message] of Object.entries(body.errors)) {
        const c = s.rendered.controls.find((x) => x.kind === "input" && x.blockId === block);
        this.print(`! ${c?.label ?? block}: ${message}`);
      }
      return;
    }
    this.surface = undefined;
    this.print(res.status === 200 ? "Submitted." : `! the app answered ${res.status}`);
  }
}
