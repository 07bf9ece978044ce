import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequestListener, route, STATUS_OF } from "../../src/http/router.js";
import {
  ConflictError,
  DomainError,
  NotFoundError,
  StaleActionError,
} from "../../src/services/errors.js";

describe("domain errors over HTTP", () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const routes = [
      route("GET", "/claimed", async () => {
        throw new ConflictError("already_claimed", "{owner} already owns this lead.", {
          owner: "U0REP00001",
        });
      }),
      route("GET", "/missing", async () => {
        throw new NotFoundError(`No lead matches "x".`);
      }),
      route("GET", "/stale", async () => {
        throw new StaleActionError("test");
      }),
    ];
    server = createServer(createRequestListener(routes));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("when a lead is already claimed, then the API answers 409 naming the owner plainly, with the id as data", async () => {
    const res = await fetch(`${base}/claimed`);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: "already_claimed",
      message: "U0REP00001 already owns this lead.",
      details: { owner: "U0REP00001" },
    });
  });

  it("when a domain error has no fields, then its code picks the status and the body has no details", async () => {
    const missing = await fetch(`${base}/missing`);
    expect(missing.status).toBe(STATUS_OF.not_found);
    expect(await missing.json()).toEqual({ error: "not_found", message: 'No lead matches "x".' });
    const stale = await fetch(`${base}/stale`);
    expect(stale.status).toBe(STATUS_OF.stale_action);
    expect(((await stale.json()) as { error: string }).error).toBe("stale_action");
  });
});

describe("domain error sentences", () => {
  it("when an adapter renders the fields its own way, then only the fields change", () => {
    const err = new DomainError("proposal_decided", "Already approved by {by} & {other}.", {
      by: "U1",
    });
    expect(err.message).toBe("Already approved by U1 & {other}.");
    expect(
      err.render(
        (id) => `<@${id}>`,
        (s) => s.replace(/&/g, "&amp;"),
      ),
    ).toBe("Already approved by <@U1> &amp; {other}.");
  });
});
