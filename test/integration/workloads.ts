// Minimal valid objects of every pod-template kind (src/api/workloads.ts), and where their images
// are: what the trigger and image-lookup suites create and read back.
import { type PodTemplateKindName, podTemplateKind } from "../../src/api/index.ts";

type Json = Record<string, unknown>;

export interface Container {
  name: string;
  image: string;
}

export interface WorkloadFixture {
  containers: Container[];
  initContainers?: Container[];
  /** On the object's metadata. */
  annotations?: Record<string, string>;
  /** On the pod template's metadata (a Pod's own metadata for a Pod). */
  templateAnnotations?: Record<string, string>;
}

/** A minimal valid `kind` object; Jobs and CronJobs suspended, so nothing runs. */
export function workloadManifest(
  kind: PodTemplateKindName,
  namespace: string,
  name: string,
  fixture: WorkloadFixture,
): Json {
  const podSpec: Json = {
    containers: fixture.containers,
    ...(fixture.initContainers?.length ? { initContainers: fixture.initContainers } : {}),
  };
  const labels = { app: name };
  const templateMeta = {
    labels,
    ...(fixture.templateAnnotations ? { annotations: fixture.templateAnnotations } : {}),
  };
  const template = { metadata: templateMeta, spec: podSpec };
  const jobPodSpec = { ...podSpec, restartPolicy: "Never" };
  const specs: Record<PodTemplateKindName, Json> = {
    Deployment: { selector: { matchLabels: labels }, template },
    StatefulSet: { selector: { matchLabels: labels }, serviceName: name, template },
    DaemonSet: { selector: { matchLabels: labels }, template },
    ReplicaSet: { selector: { matchLabels: labels }, template },
    ReplicationController: { selector: labels, template },
    CronJob: {
      schedule: "0 0 1 1 *",
      suspend: true,
      jobTemplate: { spec: { template: { metadata: templateMeta, spec: jobPodSpec } } },
    },
    Job: { suspend: true, template: { metadata: templateMeta, spec: jobPodSpec } },
    Pod: podSpec,
  };
  const annotations = {
    ...(fixture.annotations ?? {}),
    ...(kind === "Pod" ? (fixture.templateAnnotations ?? {}) : {}),
  };
  return {
    apiVersion: podTemplateKind(kind).apiVersion,
    kind,
    metadata: { name, namespace, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: specs[kind],
  };
}

export function podSpecOf(kind: PodTemplateKindName, obj: Json): Json {
  let value: unknown = obj;
  for (const key of podTemplateKind(kind).podSpecPath) value = (value as Json | undefined)?.[key];
  return (value ?? {}) as Json;
}

export function imageOf(
  kind: PodTemplateKindName,
  obj: Json,
  container: string,
  list: "containers" | "initContainers" | "ephemeralContainers" = "containers",
): string | undefined {
  const containers = (podSpecOf(kind, obj)[list] ?? []) as Container[];
  return containers.find((c) => c.name === container)?.image;
}
