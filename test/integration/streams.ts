// ImageStream reads, writes and waits shared by the import suites, against the real API server.
import { randomBytes } from "node:crypto";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { ImageStream, NamedTagEventList, TagEventCondition } from "../../src/api/types.ts";
import { type ControlPlane, eventually } from "../harness/index.ts";

const IMAGESTREAMS = { group: "image.openshift.io", version: "v1", plural: "imagestreams" } as const;

export interface Streams {
  get(namespace: string, name: string): Promise<ImageStream>;
  create(
    namespace: string,
    name: string,
    spec: ImageStream["spec"],
    annotations?: Record<string, string>,
  ): Promise<void>;
  /** Sets a fresh `image.openshift.io/import-requested` value and returns it. */
  requestImport(namespace: string, name: string): Promise<string>;
  tagStatus(namespace: string, name: string, tag: string): Promise<NamedTagEventList | undefined>;
  /** Waits until the tag's newest image is `digest`. */
  imported(
    namespace: string,
    name: string,
    tag: string,
    digest: string,
    timeoutMs?: number,
  ): Promise<NamedTagEventList>;
  /** Waits until the tag's `ImportSuccess` condition is False with `reason`. */
  failed(namespace: string, name: string, tag: string, reason: string): Promise<TagEventCondition>;
}

export function streamsOf(cp: Pick<ControlPlane, "kubeConfig">): Streams {
  const api = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const streams: Streams = {
    get: async (namespace, name) =>
      (await api.getNamespacedCustomObject({ ...IMAGESTREAMS, namespace, name })) as ImageStream,
    create: async (namespace, name, spec, annotations) => {
      await api.createNamespacedCustomObject({
        ...IMAGESTREAMS,
        namespace,
        body: {
          apiVersion: "image.openshift.io/v1",
          kind: "ImageStream",
          metadata: { name, ...(annotations ? { annotations } : {}) },
          spec,
        },
      });
    },
    requestImport: async (namespace, name) => {
      const value = randomBytes(4).toString("hex");
      await api.patchNamespacedCustomObject(
        {
          ...IMAGESTREAMS,
          namespace,
          name,
          body: { metadata: { annotations: { "image.openshift.io/import-requested": value } } },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      return value;
    },
    tagStatus: async (namespace, name, tag) =>
      (await streams.get(namespace, name)).status?.tags?.find((t) => t.tag === tag),
    imported: (namespace, name, tag, digest, timeoutMs) =>
      eventually(
        async () => {
          const status = await streams.tagStatus(namespace, name, tag);
          return status?.items?.[0]?.image === digest ? status : undefined;
        },
        `${namespace}/${name}:${tag} to point at ${digest}`,
        timeoutMs,
      ),
    failed: (namespace, name, tag, reason) =>
      eventually(async () => {
        const condition = (await streams.tagStatus(namespace, name, tag))?.conditions?.find(
          (c) => c.type === "ImportSuccess",
        );
        return condition?.status === "False" && condition.reason === reason ? condition : undefined;
      }, `${namespace}/${name}:${tag} to fail with ${reason}`),
  };
  return streams;
}
