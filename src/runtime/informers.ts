// Shared informers: one cache per resource type for the whole process, however many
// controllers read it. With a namespace list, one informer per namespace stands behind
// a single view, so controllers never care which mode the operator runs in.
import type { ResourceType } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import { Compactor } from "./compact.ts";
import { type IndexFunc, Informer, type InformerHandlers } from "./informer.ts";
import type { KubeObjectLike, ObjectKey } from "./keys.ts";
import { listWatchFromClient } from "./kube-source.ts";
import type { KubeConnection } from "./kubeconfig.ts";

/**
 * What a controller keeps of each object of a wide watch: the fields it reads, nothing else
 * (e.g. the trigger controller keeps of 5,000 ReplicaSets their names, versions and owner).
 * Part of the informer's identity: controllers asking for other projections get other caches.
 */
export interface Projection {
  readonly name: string;
  readonly keep: (obj: KubeObjectLike) => KubeObjectLike;
}

export interface SharedInformerOptions {
  /** Watch PartialObjectMetadata only: for wide watches where most objects are irrelevant. */
  metadataOnly?: boolean;
  /** Cache only what this projection keeps of each object. */
  projection?: Projection;
  fieldSelector?: string;
  labelSelector?: string;
}

/** The read side of an informer, whichever namespaces stand behind it. */
export interface SharedInformer<T extends KubeObjectLike> {
  get(key: ObjectKey): T | undefined;
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[];
  byIndex(name: string, value: string): T[];
  addIndex(name: string, fn: IndexFunc<T>): void;
  addHandlers(handlers: InformerHandlers<T>): () => void;
  hasSynced(): boolean;
}

/** The API path of a resource's collection, in one namespace or across all of them. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${type.plural}` : `${base}/${type.plural}`;
}

/** Where controllers get their informers: one per resource type (and options), shared by all. */
export interface InformerFactory {
  /** The informer of a resource type, created on first use; call before the caches start. */
  for<T extends KubeObjectLike>(type: ResourceType, options?: SharedInformerOptions): SharedInformer<T>;
}

class MultiNamespaceInformer<T extends KubeObjectLike> implements SharedInformer<T> {
  readonly #byNamespace: Map<string, Informer<T>>;

  constructor(informers: Map<string, Informer<T>>) {
    this.#byNamespace = informers;
  }

  get all(): Informer<T>[] {
    return [...this.#byNamespace.values()];
  }

  get(key: ObjectKey): T | undefined {
    const single = this.#byNamespace.get("");
    return (single ?? this.#byNamespace.get(key.namespace ?? ""))?.get(key);
  }

  list(namespace?: string): T[] {
    const items = this.all.flatMap((inf) => inf.list());
    return namespace === undefined ? items : items.filter((o) => o.metadata?.namespace === namespace);
  }

  byIndex(name: string, value: string): T[] {
    return this.all.flatMap((inf) => inf.byIndex(name, value));
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    for (const inf of this.all) inf.addIndex(name, fn);
  }

  addHandlers(handlers: InformerHandlers<T>): () => void {
    const removers = this.all.map((inf) => inf.addHandlers(handlers));
    return () => {
      for (const remove of removers) remove();
    };
  }

  hasSynced(): boolean {
    return this.all.every((inf) => inf.hasSynced());
  }
}

export class SharedInformers implements InformerFactory {
  readonly #kc: KubeConnection;
  readonly #log: Logger;
  readonly #namespaces: string[];
  readonly #informers = new Map<string, MultiNamespaceInformer<KubeObjectLike>>();
  /** One for every informer: a namespace or image named by many kinds is kept once. */
  readonly #compactor = new Compactor();
  #started = false;

  /** `namespaces` empty means the whole cluster. */
  constructor(kc: KubeConnection, log: Logger, namespaces: readonly string[]) {
    this.#kc = kc;
    this.#log = log;
    this.#namespaces = [...namespaces];
  }

  /** The informer of a resource type, created on first use; call before start(). */
  for<T extends KubeObjectLike>(type: ResourceType, options: SharedInformerOptions = {}): SharedInformer<T> {
    const id = `${type.group}/${type.version}/${type.plural}?${options.metadataOnly ? "meta" : "full"}&${options.fieldSelector ?? ""}&${options.labelSelector ?? ""}&${options.projection?.name ?? ""}`;
    const keep = options.projection?.keep ?? ((obj: KubeObjectLike) => obj);
    let shared = this.#informers.get(id);
    if (!shared) {
      if (this.#started) throw new Error(`informer ${id} requested after start`);
      const scopes = this.#namespaces.length === 0 ? [""] : this.#namespaces;
      const informers = new Map<string, Informer<KubeObjectLike>>();
      for (const ns of scopes) {
        const source = listWatchFromClient<KubeObjectLike>(this.#kc, {
          path: collectionPath(type, ns || undefined),
          ...(options.metadataOnly ? { metadataOnly: true } : {}),
          ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
          ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
          transform: (obj) => this.#compactor.compact(keep(obj), type.sharedFields),
        });
        const name = ns ? `${type.plural}/${ns}` : type.plural;
        informers.set(ns, new Informer({ source, logger: this.#log, name }));
      }
      shared = new MultiNamespaceInformer(informers);
      this.#informers.set(id, shared);
    }
    return shared as unknown as SharedInformer<T>;
  }

  start(): void {
    this.#started = true;
    for (const shared of this.#informers.values()) for (const inf of shared.all) inf.start();
  }

  async waitForSync(): Promise<boolean> {
    const all = [...this.#informers.values()].flatMap((s) => s.all);
    const results = await Promise.all(all.map((inf) => inf.waitForSync()));
    return results.every(Boolean);
  }

  hasSynced(): boolean {
    return [...this.#informers.values()].every((s) => s.hasSynced());
  }

  /** The informer that has gone longest without progress, and for how long (ms). */
  mostStalled(now = Date.now()): { name: string; stalledMs: number } | undefined {
    let worst: { name: string; stalledMs: number } | undefined;
    for (const [id, shared] of this.#informers) {
      for (const inf of shared.all) {
        const stalledMs = now - inf.lastProgress();
        if (!worst || stalledMs > worst.stalledMs) worst = { name: id, stalledMs };
      }
    }
    return worst;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].flatMap((s) => s.all.map((inf) => inf.stop())));
  }
}
