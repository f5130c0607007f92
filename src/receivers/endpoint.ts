// The receivers endpoint: `POST /hook/<sha256>`, answered by any replica from its caches. The
// core decides (unknown path 404, unverified 401, oversized 413, malformed 400, else the image
// events named); the events become tag requests for exactly the stream tags that import those
// references, handed to the leader's import controller through the API server. Nothing here
// contacts a registry: the payload's names are only compared with what streams reference.

import type { ImageStream } from "../api/index.ts";
import { MAX_WEBHOOK_BODY_BYTES, type Route } from "../http/index.ts";
import { EVERY_REPOSITORY_TAG } from "../imports/index.ts";
import type { Logger } from "../log/index.ts";
import type { ReceiverDirectory } from "./directory.ts";
import type { Receiver } from "./model.ts";
import { importRequests } from "./plan.ts";
import { receive } from "./receive.ts";
import type { TagRequestWriter } from "./requests.ts";

export const HOOKS_PATH_PREFIX = "/hook/";

export interface ReceiverEndpointOptions {
  directory: ReceiverDirectory;
  writer: TagRequestWriter;
  /** The cached streams of one namespace. */
  streams: (namespace: string) => ImageStream[];
  /** Whether the receiver's namespace may update imagestreams in `namespace` (its own always may). */
  namespaceAllowed: (receiver: Receiver, namespace: string) => Promise<boolean>;
  log: Logger;
  /** Every answer, by provider ("unknown" for an unknown path) and result ("accepted" or a refusal reason). */
  onResult?: (provider: string, result: string) => void;
}

export function receiverRoute(options: ReceiverEndpointOptions): Route {
  const { log } = options;
  return {
    name: "receivers",
    methods: ["POST"],
    path: HOOKS_PATH_PREFIX,
    prefix: true,
    // One byte more than the core accepts, so that an oversized body reaches it and is counted.
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES + 1,
    async handle(req) {
      const receiver = options.directory.lookup(req.path);
      const result = receive(receiver, { headers: req.headers, body: req.body });
      const provider = receiver?.provider ?? "unknown";
      if (!result.ok) {
        options.onResult?.(provider, result.reason);
        log.debug(
          {
            ...(receiver ? { namespace: receiver.namespace, name: receiver.name } : {}),
            provider,
            reason: result.reason,
            message: result.message,
          },
          "receiver request refused",
        );
        return { status: result.status, body: `${result.message}\n` };
      }
      const allowed: string[] = [];
      for (const namespace of receiver?.namespaces ?? []) {
        if (
          receiver &&
          (namespace === receiver.namespace || (await options.namespaceAllowed(receiver, namespace)))
        ) {
          allowed.push(namespace);
        }
      }
      const streams = allowed.flatMap((namespace) => options.streams(namespace));
      const groups = importRequests(result.events, streams, allowed);
      // Per stream, the tags to import: spec tags by name, repository tags by tag (or all).
      const byStream = new Map<string, { namespace: string; stream: string; tags: Set<string> }>();
      for (const group of groups) {
        for (const target of group.targets) {
          const key = `${target.namespace}/${target.stream}`;
          const entry = byStream.get(key) ?? {
            namespace: target.namespace,
            stream: target.stream,
            tags: new Set(),
          };
          entry.tags.add(target.kind === "tag" ? target.tag : (target.tag ?? EVERY_REPOSITORY_TAG));
          byStream.set(key, entry);
        }
      }
      try {
        await Promise.all(
          [...byStream.values()].map((t) => options.writer.request(t.namespace, t.stream, [...t.tags])),
        );
      } catch (err) {
        options.onResult?.(provider, "unavailable");
        log.warn(
          { namespace: receiver?.namespace, name: receiver?.name, err: (err as Error).message },
          "receiver event could not be handed to the import controller",
        );
        return {
          status: 503,
          headers: { "retry-after": "5" },
          body: "the import requests could not be stored; retry\n",
        };
      }
      options.onResult?.(provider, "accepted");
      log.debug(
        {
          namespace: receiver?.namespace,
          name: receiver?.name,
          provider,
          events: result.events.length,
          ignored: result.ignored,
          references: groups.map((g) => g.reference),
          streams: byStream.size,
        },
        "receiver event accepted",
      );
      return {
        status: 202,
        body: { accepted: result.events.length, ignored: result.ignored.length, streams: byStream.size },
      };
    },
  };
}
