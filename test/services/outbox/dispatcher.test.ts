import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, execRows } from "../../../src/db/client.js";
import { alertOutbox } from "../../../src/db/schema.js";
import { silentLogger } from "../../../src/lib/logger.js";
import { createOutboxDispatcher } from "../../../src/services/outbox/dispatcher.js";
import {
  keyOf,
  type MessageKey,
  type NotificationSink,
  type OutgoingMessage,
  type PostedRef,
  SinkError,
} from "../../../src/services/outbox/sink.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../../support/db.js";
import { insertAlert } from "../../support/factories.js";

const CHANNEL = "C0OUTBOX01";

interface Delivered {
  channel: string;
  id: string;
  at: Date;
  msg: OutgoingMessage;
}

/** What one call does instead of succeeding: fail, or deliver and then lose the answer. */
type Fault = { fail: SinkError } | { deliverThenFail: SinkError };

/** An in-memory sink: the far side of the port, where a real one would call the network. */
class FakeSink implements NotificationSink {
  readonly delivered: Delivered[] = [];
  readonly calls: string[] = [];
  private readonly faults: Fault[] = [];
  private seq = 0;

  failNext(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  async post(channel: string, msg: OutgoingMessage): Promise<PostedRef> {
    this.calls.push("post");
    const fault = this.faults.shift();
    if (fault && "fail" in fault) throw fault.fail;
    const ref = { channel, id: `m${++this.seq}` };
    this.delivered.push({ ...ref, at: new Date(), msg });
    if (fault) throw fault.deliverThenFail;
    return ref;
  }

  async update(ref: PostedRef, msg: OutgoingMessage): Promise<void> {
    this.calls.push("update");
    const hit = this.delivered.find((d) => d.channel === ref.channel && d.id === ref.id);
    if (!hit) throw SinkError.permanent("message_not_found");
    hit.msg = msg;
  }

  async findPosted(channel: string, key: MessageKey, since: Date) {
    this.calls.push("findPosted");
    const hit = this.delivered.find(
      (d) =>
        d.channel === channel &&
        d.at >= since &&
        keyOf(d.msg).kind === key.kind &&
        keyOf(d.msg).id === key.id,
    );
    return hit ? { channel: hit.channel, id: hit.id } : undefined;
  }

  async openDm(userId: string): Promise<string> {
    this.calls.push("openDm");
    return `D-${userId}`;
  }

  async upload(): Promise<{ fileId: string }> {
    this.calls.push("upload");
    return { fileId: `F${++this.seq}` };
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }
}

describe.each(testDatabases())("outbox dispatcher over a sink on $name", (config) => {
  let tdb: TestDatabase;
  let db: Database["db"];
  let sink: FakeSink;

  const dispatcher = () =>
    createOutboxDispatcher({
      db,
      kind: tdb.database.kind,
      sink,
      channel: CHANNEL,
      instanceId: "outbox-test",
      logger: silentLogger,
      random: () => 0.5,
      paceMs: 5,
    });

  async function row(id: number) {
    const [r] = await db.select().from(alertOutbox).where(eq(alertOutbox.id, id));
    if (!r) throw new Error(`alert ${id} missing`);
    return r;
  }

  async function secondsUntilDue(id: number): Promise<number> {
    const [r] = await execRows<{ s: number }>(
      db,
      sql`select date_part('epoch', next_attempt_at - now())::float8 as s from alert_outbox where id = ${id}`,
    );
    return Number(r?.s);
  }

  /** Time moves by data: every pending row becomes due now. */
  const makeDue = () =>
    db.execute(sql`update alert_outbox set next_attempt_at = now() where status = 'pending'`);

  beforeAll(async () => {
    tdb = await withDatabase(config);
    db = tdb.database.db;
  });

  afterAll(async () => {
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    await truncateAll(db);
    sink = new FakeSink();
  });

  it("when an alert is due, then the sink gets domain data for it, keyed by the row", async () => {
    const a = await insertAlert(db, { lead: { firstName: "Ada", company: "Acme" } });

    expect(await dispatcher().runOnce()).toEqual({ sent: 1, retried: 0 });

    expect(sink.delivered).toHaveLength(1);
    const [d] = sink.delivered;
    expect(d?.channel).toBe(CHANNEL);
    expect(d?.msg).toMatchObject({
      kind: "stage_alert",
      alertId: a.alertId,
      leadId: a.leadId,
      stage: "sql",
      lead: { leadId: a.leadId, firstName: "Ada", company: "Acme" },
    });
    expect(JSON.stringify(d?.msg)).not.toContain("blocks");
    expect(await row(a.alertId)).toMatchObject({ status: "sent", messageTs: d?.id });
  });

  it("when the sink is rate limited, then the row waits Retry-After without counting an attempt", async () => {
    const a = await insertAlert(db);
    sink.failNext({ fail: SinkError.rateLimited(20_000) });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    expect(await row(a.alertId)).toMatchObject({ status: "pending", attempts: 0 });
    const wait = await secondsUntilDue(a.alertId);
    expect(wait).toBeGreaterThan(15);
    expect(wait).toBeLessThanOrEqual(20);
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });

    await makeDue();
    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(sink.delivered).toHaveLength(1);
  });

  it("when the sink fails transiently, then the row backs off, is retried and sent once", async () => {
    const a = await insertAlert(db);
    sink.failNext({ fail: SinkError.transient("http_503") });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    expect(await row(a.alertId)).toMatchObject({
      status: "pending",
      attempts: 1,
      lastError: "http_503",
    });
    expect(await secondsUntilDue(a.alertId)).toBeGreaterThan(0);

    await makeDue();
    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(sink.delivered.map((x) => keyOf(x.msg).id)).toEqual([a.alertId]);
    expect(await row(a.alertId)).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("when the sink's failure is permanent, then the row is failed and never posted again", async () => {
    const a = await insertAlert(db);
    sink.failNext({ fail: SinkError.permanent("channel_not_found") }, 10);
    const d = dispatcher();

    for (let i = 0; i < 5; i++) {
      await d.runOnce();
      await makeDue();
    }
    expect(await row(a.alertId)).toMatchObject({
      status: "failed",
      lastError: "channel_not_found",
    });
    const postsWhenFailed = sink.count("post");
    // A permanent failure is retried only the few times someone may fix the setup in between.
    expect(postsWhenFailed).toBe(3);
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });
    expect(sink.count("post")).toBe(postsWhenFailed);
    expect(sink.delivered).toHaveLength(0);
  });

  it("when the sink posted but lost the answer, then findPosted reconciles it and nothing is posted twice", async () => {
    const a = await insertAlert(db);
    sink.failNext({ deliverThenFail: SinkError.transient("request_failed: timeout") });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    expect(sink.delivered).toHaveLength(1);
    expect((await row(a.alertId)).messageTs).toBeNull();

    await makeDue();
    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(sink.count("findPosted")).toBe(1);
    expect(sink.count("post")).toBe(1);
    expect(sink.delivered).toHaveLength(1);
    expect((await row(a.alertId)).messageTs).toBe(sink.delivered[0]?.id);
  });

  it("when a sink throws something it did not classify, then the row is retried as transient", async () => {
    const a = await insertAlert(db);
    sink = new (class extends FakeSink {
      override async post(): Promise<PostedRef> {
        throw new Error("socket hang up");
      }
    })();

    expect(await dispatcher().runOnce()).toEqual({ sent: 0, retried: 1 });
    expect(await row(a.alertId)).toMatchObject({
      status: "pending",
      attempts: 1,
      lastError: "socket hang up",
    });
  });

  it("when the owner's DM fails for good, then the channel alert still counts as sent", async () => {
    const a = await insertAlert(db, { lead: { owner: "U0OWNER09" } });
    sink = new (class extends FakeSink {
      override async post(channel: string, msg: OutgoingMessage): Promise<PostedRef> {
        if (channel.startsWith("D-")) throw SinkError.permanent("cannot_dm_bot");
        return super.post(channel, msg);
      }
    })();

    expect(await dispatcher().runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(sink.count("openDm")).toBe(1);
    expect(sink.delivered.map((d) => d.channel)).toEqual([CHANNEL]);
    expect(await row(a.alertId)).toMatchObject({
      status: "sent",
      dmTs: null,
      lastError: "dm: cannot_dm_bot",
    });
  });
});
