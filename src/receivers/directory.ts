// Which receiver a request path belongs to, from the caches every replica keeps: Receivers and
// the Secrets of the receiver type. A path is a hash of the token, so it is recomputed only
// when the receiver or its Secret changes.

import type { Receiver as ReceiverObject } from "../api/index.ts";
import type { SharedInformer } from "../runtime/index.ts";
import { type Receiver, receiverPath } from "./model.ts";
import { type ReceiverSecret, receiverOf } from "./objects.ts";

interface Entry {
  version: string;
  path: string | undefined;
  receiver: Receiver | undefined;
}

export class ReceiverDirectory {
  readonly #receivers: SharedInformer<ReceiverObject>;
  readonly #secrets: SharedInformer<ReceiverSecret>;
  readonly #entries = new Map<string, Entry>();

  constructor(receivers: SharedInformer<ReceiverObject>, secrets: SharedInformer<ReceiverSecret>) {
    this.#receivers = receivers;
    this.#secrets = secrets;
  }

  /** The Secret a receiver names, from the cache. */
  secretOf(object: ReceiverObject): ReceiverSecret | undefined {
    return this.#secrets.get({ namespace: object.metadata.namespace, name: object.spec.secretRef.name });
  }

  /** The usable receiver whose path is `path`, if any. */
  lookup(path: string): Receiver | undefined {
    const live = new Set<string>();
    let found: Receiver | undefined;
    for (const object of this.#receivers.list()) {
      const id = `${object.metadata.namespace}/${object.metadata.name}`;
      live.add(id);
      const secret = this.secretOf(object);
      const version = `${object.metadata.resourceVersion}|${secret?.metadata?.resourceVersion ?? "-"}`;
      let entry = this.#entries.get(id);
      if (entry?.version !== version) {
        const resolved = receiverOf(object, secret);
        entry = resolved.ok
          ? { version, path: receiverPath(resolved.receiver), receiver: resolved.receiver }
          : { version, path: undefined, receiver: undefined };
        this.#entries.set(id, entry);
      }
      if (entry.path === path && !object.metadata.deletionTimestamp) found = entry.receiver;
    }
    for (const id of this.#entries.keys()) if (!live.has(id)) this.#entries.delete(id);
    return found;
  }
}
