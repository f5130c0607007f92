import { X509Certificate } from "node:crypto";
import { createServer } from "node:net";
import { connect } from "node:tls";
import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  ListenError,
  parseListenAddress,
  type RequestObservation,
  type Route,
  type RunningHttpServer,
  startHttpServer,
} from "../../../src/http/index.ts";
import { createLogger } from "../../../src/log/index.ts";
import { createCertificateAuthority, issueCertificate } from "../../../src/pki/index.ts";

const log = createLogger({ level: "silent" });
const servers: RunningHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(routes: Route[], extra: Partial<Parameters<typeof startHttpServer>[0]> = {}) {
  const server = await startHttpServer({ name: "test", address: "127.0.0.1:0", routes, log, ...extra });
  if (!server) throw new Error("server disabled");
  servers.push(server);
  return server;
}

const echo: Route = {
  name: "echo",
  methods: ["POST"],
  path: "/echo",
  maxBodyBytes: 16,
  handle: async (req) => ({
    status: 200,
    body: { method: req.method, body: req.body.toString(), q: req.query.get("q") },
  }),
};

describe("parseListenAddress", () => {
  it.each([
    ["0", undefined],
    [":8080", { host: undefined, port: 8080 }],
    [":0", { host: undefined, port: 0 }],
    ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
    ["localhost:1", { host: "localhost", port: 1 }],
    ["[::1]:8081", { host: "::1", port: 8081 }],
  ])("%s", (address, expected) => {
    expect(parseListenAddress(address)).toEqual(expected);
  });

  it.each(["", "8080", "host", "host:99999", "http://x:1", ":-1"])("rejects %j", (address) => {
    expect(() => parseListenAddress(address)).toThrow(RangeError);
  });
});

describe("startHttpServer", () => {
  it("routes by path and method, sends objects as JSON, and reports every request", async () => {
    const seen: RequestObservation[] = [];
    const server = await start([echo], { onRequest: (e) => seen.push(e) });
    const res = await fetch(`${server.url}/echo?q=1`, { method: "POST", body: "hello" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ method: "POST", body: "hello", q: "1" });

    const wrongMethod = await fetch(`${server.url}/echo`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    expect(seen.map((e) => [e.server, e.route, e.method, e.status])).toEqual([
      ["test", "echo", "POST", 200],
      ["test", "echo", "GET", 405],
      ["test", "unknown", "GET", 404],
    ]);
  });

  it("answers 413 to a body over the route's limit, declared or streamed, without calling the handler", async () => {
    let called = 0;
    const server = await start([{ ...echo, handle: async () => ({ status: 200, body: String(++called) }) }]);
    expect((await fetch(`${server.url}/echo`, { method: "POST", body: "x".repeat(17) })).status).toBe(413);
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("12345678"));
        controller.close();
      },
    });
    const streamed = await fetch(`${server.url}/echo`, {
      method: "POST",
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(called).toBe(0);
    expect((await fetch(`${server.url}/echo`, { method: "POST", body: "x".repeat(16) })).status).toBe(200);
  });

  it("matches a prefix route and serves HEAD where GET is served", async () => {
    const server = await start([
      {
        name: "hook",
        methods: ["GET"],
        path: "/hook/",
        prefix: true,
        handle: async (req) => ({ status: 200, body: req.path }),
      },
    ]);
    const res = await fetch(`${server.url}/hook/abc`);
    expect(await res.text()).toBe("/hook/abc");
    const head = await fetch(`${server.url}/hook/abc`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await fetch(`${server.url}/hooks`)).status).toBe(404);
  });

  it("turns a handler's failure into a 500 with one line and keeps serving", async () => {
    const server = await start([
      {
        name: "boom",
        methods: ["GET"],
        path: "/boom",
        handle: async () => {
          throw new Error("the cache is not ready");
        },
      },
      { ...echo, methods: ["GET"] },
    ]);
    const res = await fetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("internal error: the cache is not ready\n");
    expect((await fetch(`${server.url}/echo`)).status).toBe(200);
  });

  it("is disabled by address 0 and names the address it cannot bind", async () => {
    expect(await startHttpServer({ name: "off", address: "0", routes: [], log })).toBeUndefined();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    await expect(
      startHttpServer({ name: "taken", address: `127.0.0.1:${address.port}`, routes: [], log }),
    ).rejects.toBeInstanceOf(ListenError);
    await new Promise((resolve) => blocker.close(resolve));
  });

  it("serves HTTPS and replaces its certificate for new connections while serving", async () => {
    const ca = await createCertificateAuthority({ commonName: "test-ca", lifetimeMs: 3_600_000 });
    const leaf = () =>
      issueCertificate(ca, {
        commonName: "server",
        ipAddresses: ["127.0.0.1"],
        usage: "server",
        lifetimeMs: 3_600_000,
      });
    const first = await leaf();
    const server = await start([{ ...echo, methods: ["GET"] }], { tls: first });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const agent = new Agent({ connect: { ca: ca.certificatePem } });
    const get = async () => (await request(`${server.url}/echo`, { dispatcher: agent })).statusCode;
    expect(await get()).toBe(200);

    const peerSerial = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: server.port, ca: ca.certificatePem }, () => {
          resolve(socket.getPeerX509Certificate()?.serialNumber ?? "");
          socket.end();
        });
        socket.on("error", reject);
      });
    expect(await peerSerial()).toBe(new X509Certificate(first.certificatePem).serialNumber);
    const second = await leaf();
    server.setCertificate(second);
    expect(await peerSerial()).toBe(new X509Certificate(second.certificatePem).serialNumber);
    // The pooled connection made before the swap keeps working too.
    expect(await get()).toBe(200);
    await agent.close();
  });

  it("refuses a certificate swap on a plain HTTP server", async () => {
    const server = await start([echo]);
    expect(() => server.setCertificate({ certificatePem: "", privateKeyPem: "" })).toThrow(
      /does not serve HTTPS/,
    );
  });
});
