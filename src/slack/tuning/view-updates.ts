import type { types } from "@slack/bolt";
import type { WebClient } from "../client.js";

/** Views whose latest update this process remembers; older entries are forgotten first. */
const MAX_TRACKED_VIEWS = 500;

/** Slack's answer when the `hash` given to views.update is not the view's current one. */
const HASH_CONFLICT = "hash_conflict";

export function slackErrorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } } | undefined)?.data?.error;
}

interface Tracked {
  seq: number;
  /** The hash of the view as this process last wrote it. */
  hash?: string | undefined;
}

export type UpdateOutcome = "updated" | "superseded" | "conflict" | "gone";

/**
 * Orders the preview updates of open modals. Each edit starts a measurement; when several overlap,
 * only the newest may write, so a slow early measurement never replaces a later one. The view
 * `hash` guards against writers this process does not know about (another instance, Slack
 * itself): on a conflict the update is dropped, unless the conflict is with this process's own
 * previous write, in which case the newest measurement is written over it once.
 */
export class ViewUpdates {
  private readonly views = new Map<string, Tracked>();

  /** Marks the start of a measurement for `viewId`; returns its sequence number. */
  begin(viewId: string): number {
    const t = this.views.get(viewId);
    const seq = (t?.seq ?? 0) + 1;
    this.views.delete(viewId);
    this.views.set(viewId, { seq, hash: t?.hash });
    if (this.views.size > MAX_TRACKED_VIEWS) {
      const oldest = this.views.keys().next().value;
      if (oldest !== undefined) this.views.delete(oldest);
    }
    return seq;
  }

  /** Forgets a view (submitted or closed). */
  end(viewId: string): void {
    this.views.delete(viewId);
  }

  isLatest(viewId: string, seq: number): boolean {
    const t = this.views.get(viewId);
    return !t || t.seq === seq;
  }

  async update(
    client: WebClient,
    p: { viewId: string; seq: number; hash: string | undefined; view: types.ModalView },
  ): Promise<UpdateOutcome> {
    if (!this.isLatest(p.viewId, p.seq)) return "superseded";
    const write = async (hash: string | undefined) => {
      const res = await client.views.update({
        view_id: p.viewId,
        view: p.view,
        ...(hash ? { hash } : {}),
      });
      const t = this.views.get(p.viewId);
      if (t && res.view?.hash) t.hash = res.view.hash;
    };
    try {
      await write(p.hash);
      return "updated";
    } catch (err) {
      const code = slackErrorCode(err);
      if (code === "not_found") return "gone";
      if (code !== HASH_CONFLICT) throw err;
      const own = this.views.get(p.viewId)?.hash;
      if (!this.isLatest(p.viewId, p.seq) || !own || own === p.hash) return "conflict";
      try {
        await write(own);
        return "updated";
      } catch (again) {
        if (slackErrorCode(again) === HASH_CONFLICT) return "conflict";
        if (slackErrorCode(again) === "not_found") return "gone";
        throw again;
      }
    }
  }
}
