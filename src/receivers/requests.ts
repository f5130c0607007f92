// Hands verified events to the leader's import controller through the API server: each target
// stream gets a tag request (image.openshift.io/import-requested-tags) naming exactly the tags
// to import now. Any replica may write it, whichever receives the webhook: the write carries
// the stream's resourceVersion and is redone on a conflict, so no request is lost between
// replicas. Requests for one stream that arrive while its write is in flight go together in
// the next write (a burst costs one write per stream, and one registry lookup per reference
// once the controller imports).

import { randomUUID } from "node:crypto";
import { IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import { IMPORT_REQUESTED_TAGS_ANNOTATION, requestTagImports } from "../imports/index.ts";
import { isConflict, isNotFound, type ObjectApi } from "../runtime/index.ts";

interface Pending {
  tags: Set<string>;
  waiters: PromiseWithResolvers<void>[];
  running: boolean;
}

export interface TagRequestWriterOptions {
  objects: ObjectApi;
  cachedStream: (namespace: string, name: string) => ImageStream | undefined;
  newRequestId?: () => string;
  /** Conflicts retried before giving up (default 8). */
  maxAttempts?: number;
}

export class TagRequestWriter {
  readonly #options: TagRequestWriterOptions;
  readonly #pending = new Map<string, Pending>();

  constructor(options: TagRequestWriterOptions) {
    this.#options = options;
  }

  /** Resolves once a write asking for `tags` of the stream is stored (or the stream is gone). */
  request(namespace: string, name: string, tags: readonly string[]): Promise<void> {
    const key = `${namespace}/${name}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = { tags: new Set(), waiters: [], running: false };
      this.#pending.set(key, pending);
    }
    for (const tag of tags) pending.tags.add(tag);
    const waiter = Promise.withResolvers<void>();
    pending.waiters.push(waiter);
    if (!pending.running) void this.#drain(key, namespace, name, pending);
    return waiter.promise;
  }

  async #drain(key: string, namespace: string, name: string, pending: Pending): Promise<void> {
    pending.running = true;
    while (pending.tags.size > 0) {
      const tags = [...pending.tags];
      const waiters = pending.waiters;
      pending.tags = new Set();
      pending.waiters = [];
      try {
        await this.#write(namespace, name, tags);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.#pending.delete(key);
  }

  async #write(namespace: string, name: string, tags: readonly string[]): Promise<void> {
    const { objects } = this.#options;
    const key = { namespace, name };
    const id = this.#options.newRequestId?.() ?? randomUUID();
    const attempts = this.#options.maxAttempts ?? 8;
    let stream = this.#options.cachedStream(namespace, name);
    for (let attempt = 1; ; attempt++) {
      try {
        stream ??= await objects.get<ImageStream>(IMAGESTREAMS, key);
        await objects.mergePatch(IMAGESTREAMS, key, {
          metadata: {
            resourceVersion: stream.metadata.resourceVersion,
            annotations: { [IMPORT_REQUESTED_TAGS_ANNOTATION]: requestTagImports(stream, tags, id) },
          },
        });
        return;
      } catch (err) {
        // The stream went away meanwhile: nothing left to import.
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= attempts) throw err;
        stream = undefined;
      }
    }
  }
}
