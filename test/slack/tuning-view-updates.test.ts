import type { types } from "@slack/bolt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSlackClient, type WebClient } from "../../src/slack/client.js";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import { ViewUpdates } from "../../src/slack/tuning/view-updates.js";

function modal(text: string): types.ModalView {
  return {
    type: "modal",
    title: { type: "plain_text", text: "Tune thresholds" },
    blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
  };
}

function shown(standin: SlackStandin, viewId: string): string {
  const blocks = standin.views.get(viewId)?.view.blocks as
    | { text?: { text: string } }[]
    | undefined;
  return blocks?.[0]?.text?.text ?? "";
}

describe("ordering preview updates of an open modal", () => {
  let standin: SlackStandin;
  let client: WebClient;

  beforeAll(async () => {
    standin = await SlackStandin.start();
    client = createSlackClient("xoxb-test", standin.url);
  });

  afterAll(async () => {
    await standin.close();
  });

  beforeEach(() => standin.reset());

  async function open(): Promise<{ id: string; hash: string }> {
    const res = await client.views.open({ trigger_id: "1.2", view: modal("measuring") });
    return { id: res.view?.id ?? "", hash: res.view?.hash ?? "" };
  }

  it("when an older measurement finishes after a newer one started, then it does not write", async () => {
    const updates = new ViewUpdates();
    const v = await open();
    const first = updates.begin(v.id);
    const second = updates.begin(v.id);
    expect(
      await updates.update(client, { viewId: v.id, seq: first, hash: v.hash, view: modal("old") }),
    ).toBe("superseded");
    expect(
      await updates.update(client, { viewId: v.id, seq: second, hash: v.hash, view: modal("new") }),
    ).toBe("updated");
    expect(shown(standin, v.id)).toBe("new");
    expect(standin.callsTo("views.update")).toHaveLength(1);
  });

  it("when the hash is stale only because of this process's own write, then the newest values are written over it", async () => {
    const updates = new ViewUpdates();
    const v = await open();
    const first = updates.begin(v.id);
    expect(
      await updates.update(client, {
        viewId: v.id,
        seq: first,
        hash: v.hash,
        view: modal("first"),
      }),
    ).toBe("updated");
    // The next edit's payload was sent before Slack saw the first write, so it carries the old hash.
    const second = updates.begin(v.id);
    expect(
      await updates.update(client, {
        viewId: v.id,
        seq: second,
        hash: v.hash,
        view: modal("second"),
      }),
    ).toBe("updated");
    expect(shown(standin, v.id)).toBe("second");
    expect(standin.callsTo("views.update").map((c) => c.response?.error ?? "ok")).toEqual([
      "ok",
      "hash_conflict",
      "ok",
    ]);
  });

  it("when someone else changed the view, then the update is dropped, not forced", async () => {
    const updates = new ViewUpdates();
    const v = await open();
    // Another writer (another app instance) updates the view without this process knowing.
    await client.views.update({ view_id: v.id, view: modal("elsewhere") });
    const seq = updates.begin(v.id);
    expect(
      await updates.update(client, { viewId: v.id, seq, hash: v.hash, view: modal("mine") }),
    ).toBe("conflict");
    expect(shown(standin, v.id)).toBe("elsewhere");
  });

  it("when the modal was closed, then the update reports it gone instead of failing", async () => {
    const updates = new ViewUpdates();
    const seq = updates.begin("V000000404");
    expect(
      await updates.update(client, {
        viewId: "V000000404",
        seq,
        hash: undefined,
        view: modal("x"),
      }),
    ).toBe("gone");
  });
});
