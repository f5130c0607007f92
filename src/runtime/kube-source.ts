// A ListWatchSource over a real API server: paginated lists of any collection path and a
// streamed watch, optionally as PartialObjectMetadata, both through kubeRequest's undici pool.

import { isRecord } from "../api/index.ts";
import { withoutManagedFields } from "./compact.ts";
import { errorFromStatus, httpStatusOf, KubeApiError } from "./errors.ts";
import type { ListWatchSource, WatchEventType } from "./informer.ts";
import { kubeRequest } from "./kube-request.ts";
import { kubeWatch } from "./kube-watch.ts";
import type { KubeConnection } from "./kubeconfig.ts";

export interface KubeListWatchOptions<T = unknown> {
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
   * Longest wait for the next bytes of a watch before it fails (default 5 minutes). Kept above
   * the informer's silence threshold so the informer decides when a quiet watch is dead.
   */
  inactivityTimeoutMs?: number;
  /**
   * Applied to every listed (page by page, so a page's parsed JSON is garbage before the next
   * arrives) and watched object; default: drop managedFields.
   */
  transform?: (obj: T) => T;
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

export function listWatchFromClient<T>(
  kc: KubeConnection,
  options: KubeListWatchOptions<T>,
): ListWatchSource<T> {
  const selectors: Record<string, string> = {};
  if (options.labelSelector) selectors.labelSelector = options.labelSelector;
  if (options.fieldSelector) selectors.fieldSelector = options.fieldSelector;
  const pageSize = options.pageSize ?? 500;
  // Informers compact objects further (compact.ts), which drops managedFields too.
  const transform = options.transform ?? withoutManagedFields;
  const nextTimeoutSeconds = options.timeoutSeconds ?? defaultTimeoutSeconds;
  const watchAccept = options.metadataOnly ? METADATA_WATCH_ACCEPT : "application/json";
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
        for (const item of page.items ?? []) items.push(transform(item));
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken);
      return { items, resourceVersion };
    },

    async watch(resourceVersion, onEvent, onDone) {
      let ended = false;
      const controller = new AbortController();
      const endOnce = (err?: unknown): void => {
        if (ended) return;
        ended = true;
        controller.abort();
        onDone(err);
      };
      const query = {
        ...selectors,
        resourceVersion,
        allowWatchBookmarks: "true",
        timeoutSeconds: String(nextTimeoutSeconds()),
      };
      kubeWatch(
        kc,
        { path: options.path, query, accept: watchAccept },
        ({ type, object }) => {
          if (ended) return;
          if (type === "ERROR") {
            // e.g. {"kind":"Status","code":410,"reason":"Expired"} when resourceVersion is too old.
            endOnce(errorFromStatus(httpStatusOf(object) ?? 500, object));
            return;
          }
          if (type === "ADDED" || type === "MODIFIED" || type === "DELETED" || type === "BOOKMARK") {
            onEvent(type as WatchEventType, type === "BOOKMARK" ? (object as T) : transform(object as T));
          }
        },
        { signal: controller.signal, idleTimeoutMs: options.inactivityTimeoutMs ?? 300_000 },
      ).then(
        // A clean end of the stream is the server ending the watch; after our own abort, the
        // abort error is ignored (already ended).
        () => endOnce(),
        (err: unknown) => endOnce(err ?? new Error("watch failed")),
      );
      return {
        abort: () => {
          ended = true;
          controller.abort();
        },
      };
    },
  };
}
