// The list/watch source against a tiny HTTP server on 127.0.0.1 that speaks the list and
// watch wire format: checks the requests it sends and how it reports what comes back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  httpStatusOf,
  type KubeConnection,
  listWatchFromClient,
  type WatchEventType,
} from "../../../src/runtime/index.ts";
import { closeServer, listenLoopback } from "./helpers.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server | undefined;
const requests: { url: URL; headers: IncomingMessage["headers"] }[] = [];

async function serve(handler: Handler): Promise<KubeConnection> {
  requests.length = 0;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push({ url, headers: req.headers });
    handler(req, res, url);
  });
  return listenLoopback(server);
}

afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

const PATH = "/apis/image.openshift.io/v1/namespaces/team/imagestreams";
const item = (name: string, rv: string) => ({ metadata: { name, namespace: "team", resourceVersion: rv } });

function collectWatch() {
  const events: [WatchEventType, string | undefined][] = [];
  let resolveDone!: (err: unknown) => void;
  const done = new Promise<unknown>((resolve) => {
    resolveDone = resolve;
  });
  let doneCalls = 0;
  return {
    events,
    done,
    doneCalls: () => doneCalls,
    onEvent: (type: WatchEventType, o: { metadata?: { name?: string } }) =>
      events.push([type, o.metadata?.name]),
    onDone: (err?: unknown) => {
      doneCalls++;
      resolveDone(err);
    },
  };
}

describe("listWatchFromClient", () => {
  it("lists every page with selectors, auth and the metadata-only Accept header", async () => {
    const kc = await serve((_req, res, url) => {
      res.setHeader("Content-Type", "application/json");
      const page2 = url.searchParams.get("continue") === "page2";
      res.end(
        JSON.stringify({
          kind: "PartialObjectMetadataList",
          metadata: { resourceVersion: page2 ? "20" : "19", ...(page2 ? {} : { continue: "page2" }) },
          items: page2 ? [item("b", "11")] : [item("a", "10")],
        }),
      );
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, {
      path: PATH,
      labelSelector: "app=web",
      fieldSelector: "metadata.name!=x",
      metadataOnly: true,
      pageSize: 1,
    });
    const { items, resourceVersion } = await source.list();
    expect(items.map((i) => i.metadata.name)).toEqual(["a", "b"]);
    expect(resourceVersion).toBe("20");
    expect(requests).toHaveLength(2);
    const first = requests[0];
    expect(first?.url.pathname).toBe(PATH);
    expect(first?.url.searchParams.get("labelSelector")).toBe("app=web");
    expect(first?.url.searchParams.get("fieldSelector")).toBe("metadata.name!=x");
    expect(first?.url.searchParams.get("limit")).toBe("1");
    expect(first?.headers.accept).toBe("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
    expect(first?.headers.authorization).toBe("Bearer test-token");
    expect(requests[1]?.url.searchParams.get("continue")).toBe("page2");
  });

  it("hands out listed and watched objects as its transform made them, bookmarks untouched", async () => {
    const kc = await serve((_req, res, url) => {
      res.setHeader("Content-Type", "application/json");
      if (url.searchParams.get("watch") === "true") {
        res.write(`${JSON.stringify({ type: "ADDED", object: item("b", "21") })}\n`);
        res.end(`${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "22" } } })}\n`);
        return;
      }
      res.end(JSON.stringify({ metadata: { resourceVersion: "20" }, items: [item("a", "10")] }));
    });
    const transformed: string[] = [];
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, {
      path: PATH,
      transform: <T>(obj: T): T => {
        const o = obj as ReturnType<typeof item>;
        transformed.push(o.metadata.name);
        return { ...o, metadata: { ...o.metadata, name: o.metadata.name.toUpperCase() } } as T;
      },
    });
    const { items } = await source.list();
    expect(items.map((i) => i.metadata.name)).toEqual(["A"]);
    const watch = collectWatch();
    await source.watch("20", watch.onEvent, watch.onDone);
    await watch.done;
    expect(watch.events).toEqual([
      ["ADDED", "B"],
      ["BOOKMARK", undefined],
    ]);
    expect(transformed).toEqual(["a", "b"]);
  });

  it("turns an error response into an error carrying the HTTP status and reason", async () => {
    const kc = await serve((_req, res) => {
      res.statusCode = 410;
      res.end(
        JSON.stringify({ kind: "Status", code: 410, reason: "Expired", message: "continue token expired" }),
      );
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, { path: PATH });
    const err = await source.list().catch((e: unknown) => e);
    expect(httpStatusOf(err)).toBe(410);
    expect(err).toMatchObject({ reason: "Expired", message: "continue token expired" });
  });

  it("watches from the resourceVersion with bookmarks and delivers events until the server ends", async () => {
    const kc = await serve((_req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.write(`${JSON.stringify({ type: "ADDED", object: item("a", "21") })}\n`);
      res.write(`${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "22" } } })}\n`);
      res.end(`${JSON.stringify({ type: "DELETED", object: item("a", "23") })}\n`);
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, {
      path: PATH,
      metadataOnly: true,
      timeoutSeconds: () => 321,
    });
    const watch = collectWatch();
    await source.watch("20", watch.onEvent, watch.onDone);
    expect(await watch.done).toBeUndefined();
    expect(watch.events).toEqual([
      ["ADDED", "a"],
      ["BOOKMARK", undefined],
      ["DELETED", "a"],
    ]);
    const query = requests[0]?.url.searchParams;
    expect(query?.get("watch")).toBe("true");
    expect(query?.get("resourceVersion")).toBe("20");
    expect(query?.get("allowWatchBookmarks")).toBe("true");
    expect(query?.get("timeoutSeconds")).toBe("321");
    expect(requests[0]?.headers.accept).toBe("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
    expect(requests[0]?.headers.authorization).toBe("Bearer test-token");
  });

  it("reports an ERROR event with code 410 as a 410 error, once", async () => {
    const kc = await serve((_req, res) => {
      res.write(
        `${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" } })}\n`,
      );
      // The connection stays open: the adapter must end the watch itself.
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, { path: PATH });
    const watch = collectWatch();
    await source.watch("1", watch.onEvent, watch.onDone);
    const err = await watch.done;
    expect(httpStatusOf(err)).toBe(410);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(watch.doneCalls()).toBe(1);
  });

  it("reports an HTTP error status of the watch request", async () => {
    const kc = await serve((_req, res) => {
      res.statusCode = 410;
      res.end();
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, { path: PATH });
    const watch = collectWatch();
    await source.watch("1", watch.onEvent, watch.onDone);
    expect(httpStatusOf(await watch.done)).toBe(410);
  });

  it("ends the watch with an error when a line is not a watch event", async () => {
    const kc = await serve((_req, res) => {
      res.write(`${JSON.stringify({ type: "ADDED", object: item("a", "2") })}\n<html>\n`);
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, { path: PATH });
    const watch = collectWatch();
    await source.watch("1", watch.onEvent, watch.onDone);
    expect(String(await watch.done)).toContain("watch stream: a line is not JSON: <html>");
    expect(watch.events).toEqual([["ADDED", "a"]]);
  });

  it("fails a watch that received no bytes for inactivityTimeoutMs", async () => {
    const kc = await serve((_req, res) => {
      res.write(`${JSON.stringify({ type: "ADDED", object: item("a", "2") })}\n`);
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, { path: PATH, inactivityTimeoutMs: 200 });
    const watch = collectWatch();
    await source.watch("1", watch.onEvent, watch.onDone);
    expect(await watch.done).toMatchObject({ code: "UND_ERR_BODY_TIMEOUT" });
    expect(watch.events).toEqual([["ADDED", "a"]]);
  });

  it("abort() closes the connection and reports nothing afterwards", async () => {
    let closed = false;
    const kc = await serve((req, res) => {
      req.on("close", () => {
        closed = true;
      });
      res.write(`${JSON.stringify({ type: "ADDED", object: item("a", "2") })}\n`);
    });
    const source = listWatchFromClient<ReturnType<typeof item>>(kc, { path: PATH });
    const watch = collectWatch();
    const handle = await source.watch("1", watch.onEvent, watch.onDone);
    while (watch.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    handle.abort();
    for (let i = 0; i < 100 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(closed).toBe(true);
    expect(watch.doneCalls()).toBe(0);
  });
});
