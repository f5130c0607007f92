// Re-import requests as the planner must see them.
import type { ImageStream } from "../api/index.ts";
import { IMPORT_REQUESTED_HANDLED_ANNOTATION } from "./model.ts";

/**
 * The stream with `honoured` recorded as the handled request even if the cache lags: the
 * "handled" annotation is written after status, so the cache can show the new status before it,
 * and without this the request would run twice.
 */
export function withHandledRequest(stream: ImageStream, honoured: string | undefined): ImageStream {
  const annotations = stream.metadata.annotations ?? {};
  if (honoured === undefined || annotations[IMPORT_REQUESTED_HANDLED_ANNOTATION] === honoured) return stream;
  return {
    ...stream,
    metadata: {
      ...stream.metadata,
      annotations: { ...annotations, [IMPORT_REQUESTED_HANDLED_ANNOTATION]: honoured },
    },
  };
}
