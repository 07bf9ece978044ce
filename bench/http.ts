import { Agent, request } from "node:http";

export interface HttpResult {
  status: number;
  body: string;
}

/** A keep-alive HTTP client for one local server: what a CRM or tracker pipeline would hold. */
export function httpClient(port: number, token: string, sockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const send = (method: string, path: string, body?: string): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method,
          path,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  return {
    post: (path: string, body: string) => send("POST", path, body),
    get: (path: string) => send("GET", path),
    close: () => agent.destroy(),
  };
}
