// A ListWatchSource over a real API server through @kubernetes/client-node: paginated lists
// of any collection path and client-node's Watch, optionally as PartialObjectMetadata.

import type { KubeConfig, RequestContext } from "@kubernetes/client-node";
import { Watch } from "@kubernetes/client-node";
import { isRecord } from "../api/index.ts";
import { errorFromStatus, httpStatusOf, KubeApiError } from "./errors.ts";
import type { ListWatchSource, WatchEventType } from "./informer.ts";
import { kubeRequest } from "./kube-request.ts";

export interface KubeListWatchOptions {
  /**
   * Collection path without query, e.g. `/apis/image.openshift.io/v1/namespaces/x/imagestreams`,
   * `/apis/image.openshift.io/v1/imagestreams` (all namespaces) or `/api/v1/secrets`.
   */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** List and watch PartialObjectMetadata only (metadata, no spec/status): cheap for wide watches. */
  metadataOnly?: boolean;
  /** Items per list page (default 500). */
  pageSize?: number;
  /**
   * Server-side watch timeout in seconds; client-go draws it from [5, 10) minutes so watches
   * of many clients do not expire together, and so does the default here.
   */
  timeoutSeconds?: () => number;
  /**
   * client-node's own connect/inactivity timeout for a watch (default 5 minutes). Kept above
   * the informer's silence threshold so the informer decides when a quiet watch is dead.
   */
  inactivityTimeoutMs?: number;
}

const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const METADATA_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

interface ListBody<T> {
  items?: T[] | null;
  metadata?: { resourceVersion?: string; continue?: string };
}

function defaultTimeoutSeconds(): number {
  return Math.floor(300 + Math.random() * 300);
}

/**
 * A KubeConfig that also sets `Accept` on every request it authenticates: client-node's Watch
 * builds its headers only from applySecurityAuthentication, so this is where the header goes.
 */
function withAccept(kc: KubeConfig, accept: string): KubeConfig {
  const wrapped = Object.create(kc) as KubeConfig;
  wrapped.applySecurityAuthentication = async (ctx: RequestContext): Promise<void> => {
    await kc.applySecurityAuthentication(ctx);
    ctx.setHeaderParam("Accept", accept);
  };
  return wrapped;
}

/**
 * Drops `metadata.managedFields` before an object reaches a cache: no controller reads it, and
 * it grows with the object's spec (most of a metadata-only cache's memory, measured with 3000
 * Deployments), so the cache's size would follow the size of objects it does not care about.
 */
function withoutManagedFields<T>(obj: T): T {
  if (!isRecord(obj) || !isRecord(obj.metadata) || !("managedFields" in obj.metadata)) return obj;
  // Rebuilt rather than `delete`d: a deleted property turns every cached metadata into a
  // dictionary-mode object (about 800 bytes instead of 400, docs/memory.md).
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  (obj as Record<string, unknown>).metadata = metadata;
  return obj;
}

export function listWatchFromClient<T>(kc: KubeConfig, options: KubeListWatchOptions): ListWatchSource<T> {
  const selectors: Record<string, string> = {};
  if (options.labelSelector) selectors.labelSelector = options.labelSelector;
  if (options.fieldSelector) selectors.fieldSelector = options.fieldSelector;
  const pageSize = options.pageSize ?? 500;
  const nextTimeoutSeconds = options.timeoutSeconds ?? defaultTimeoutSeconds;
  const watchConfig = options.metadataOnly ? withAccept(kc, METADATA_WATCH_ACCEPT) : kc;
  const listAccept = options.metadataOnly ? METADATA_LIST_ACCEPT : "application/json";

  async function listPage(continueToken: string | undefined): Promise<ListBody<T>> {
    const body = await kubeRequest(kc, {
      method: "GET",
      path: options.path,
      query: { ...selectors, limit: String(pageSize), continue: continueToken },
      accept: listAccept,
    });
    if (!isRecord(body)) throw new KubeApiError(200, `list ${options.path}: response is not a JSON object`);
    return body as ListBody<T>;
  }

  return {
    async list() {
      const items: T[] = [];
      let continueToken: string | undefined;
      let resourceVersion = "";
      // An expired continue token fails with 410; the informer then relists from the start.
      do {
        const page = await listPage(continueToken);
        for (const item of page.items ?? []) items.push(withoutManagedFields(item));
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken);
      return { items, resourceVersion };
    },

    async watch(resourceVersion, onEvent, onDone) {
      let ended = false;
      let controller: AbortController | undefined;
      const endOnce = (err?: unknown): void => {
        if (ended) return;
        ended = true;
        controller?.abort();
        onDone(err);
      };
      const watch = new Watch(watchConfig);
      // client-node aborts a watch that received no bytes for requestTimeoutMs (30 s by default,
      // below the API server's ~1 minute bookmark interval); the field is private, hence the cast.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
        options.inactivityTimeoutMs ?? 300_000;
      const query = {
        ...selectors,
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: nextTimeoutSeconds(),
      };
      controller = await watch.watch(
        options.path,
        query,
        (phase: string, obj: unknown) => {
          if (ended) return;
          if (phase === "ERROR") {
            // e.g. {"kind":"Status","code":410,"reason":"Expired"} when resourceVersion is too old.
            endOnce(errorFromStatus(httpStatusOf(obj) ?? 500, obj));
            return;
          }
          if (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED" || phase === "BOOKMARK") {
            onEvent(phase as WatchEventType, withoutManagedFields(obj as T));
          }
        },
        // client-node reports HTTP errors (status >= 300) as an Error with `statusCode`, a clean
        // end of the stream as null, and our own abort as an AbortError (ignored: already ended).
        (err: unknown) => endOnce(err ?? undefined),
      );
      if (ended) controller.abort();
      return {
        abort: () => {
          ended = true;
          controller?.abort();
        },
      };
    },
  };
}
