// The operator's webhooks as kube-apiserver registers them: one table (what each webhook
// matches, its failure policy, side effects, timeout, reinvocation) and the
// MutatingWebhookConfiguration built from it. The operator writes that object itself when
// kube-apiserver reaches it through a URL (development, tests); the chart's template is generated
// from the same table (scripts/gen-crds.ts) and the operator then writes only the caBundle.
// Pure: the writes are the certificate keeper's.
import { apiVersionOf, MUTATING_WEBHOOK_CONFIGURATIONS } from "../api/index.ts";
import { LOOKUP_KINDS } from "./workloads.ts";

export type WebhookId = "image-lookup" | "imagestreamtags" | "imagestreamimports";

export interface RuleWithOperations {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope: "Namespaced";
}

export interface MatchCondition {
  name: string;
  expression: string;
}

export interface WebhookDefinition {
  /** Route and metrics label. */
  id: WebhookId;
  /** The webhook's name in the configuration (a qualified name, unique within it). */
  name: string;
  /** Path on the operator's webhook server. */
  path: string;
  rules: RuleWithOperations[];
  /** CEL conditions kube-apiserver checks before calling: requests that cannot need the webhook never wait for it. */
  matchConditions: MatchCondition[];
  /** Why (docs/admission.md): Ignore lets objects through unresolved, Fail refuses what needs the operator. */
  failurePolicy: "Ignore" | "Fail";
  sideEffects: "None" | "NoneOnDryRun";
  timeoutSeconds: number;
  /** IfNeeded: called again when a later mutating webhook (a sidecar injector) adds containers. */
  reinvocationPolicy: "IfNeeded" | "Never";
}

export const ADMISSION_PATH_PREFIX = "/admission/";

/** kube-apiserver waits at most this long for oc import-image's answer (the API's maximum). */
export const IMPORT_WEBHOOK_TIMEOUT_SECONDS = 30;

const CREATE_UPDATE = ["CREATE", "UPDATE"];

/** One rule per API group and version of the image-lookup kinds, plus Pods' ephemeral containers. */
function lookupRules(): RuleWithOperations[] {
  const byGroupVersion = new Map<string, { group: string; version: string; resources: string[] }>();
  for (const kind of LOOKUP_KINDS) {
    const id = apiVersionOf(kind);
    const entry = byGroupVersion.get(id) ?? { group: kind.group, version: kind.version, resources: [] };
    entry.resources.push(kind.plural);
    // `kubectl debug` adds ephemeral containers through this subresource.
    if (kind.kind === "Pod") entry.resources.push("pods/ephemeralcontainers");
    byGroupVersion.set(id, entry);
  }
  return [...byGroupVersion.values()].map(({ group, version, resources }) => ({
    apiGroups: [group],
    apiVersions: [version],
    resources,
    operations: CREATE_UPDATE,
    scope: "Namespaced",
  }));
}

/** CEL: does some container list of the pod spec at `path` name an image without a `/` (a lookup candidate)? */
function shortImageExpression(): string {
  const byPath = new Map<string, string[]>();
  for (const kind of LOOKUP_KINDS)
    byPath.set(kind.podSpecFieldPath, [...(byPath.get(kind.podSpecFieldPath) ?? []), kind.kind]);
  const branches = [...byPath].map(([path, kinds]) => {
    const keys = path.split(".");
    const guards = keys.map((_, i) => `has(object.${keys.slice(0, i + 1).join(".")})`);
    const spec = `object.${path}`;
    const lists = ["containers", "initContainers", "ephemeralContainers"].map(
      (list) => `(has(${spec}.${list}) && ${spec}.${list}.exists(c, has(c.image) && !c.image.contains('/')))`,
    );
    const kindTest = `request.kind.kind in [${kinds.map((k) => `'${k}'`).join(", ")}]`;
    return `(${kindTest} && ${guards.join(" && ")} && (${lists.join(" || ")}))`;
  });
  return branches.join(" || ");
}

export const WEBHOOKS: readonly WebhookDefinition[] = Object.freeze([
  {
    id: "image-lookup",
    name: "image-lookup.admission.image.openshift.io",
    path: `${ADMISSION_PATH_PREFIX}image-lookup`,
    rules: lookupRules(),
    matchConditions: [
      {
        // Their templates come from an owner that was resolved already (a Deployment's ReplicaSets and Pods).
        name: "not-controller-owned",
        expression:
          "!has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller)",
      },
      { name: "names-an-image-without-registry", expression: shortImageExpression() },
    ],
    failurePolicy: "Ignore",
    sideEffects: "None",
    timeoutSeconds: 5,
    reinvocationPolicy: "IfNeeded",
  },
  {
    id: "imagestreamtags",
    name: "imagestreamtags.admission.image.openshift.io",
    path: `${ADMISSION_PATH_PREFIX}imagestreamtags`,
    rules: [
      {
        apiGroups: ["image.openshift.io"],
        apiVersions: ["v1"],
        resources: ["imagestreamtags"],
        operations: ["CREATE"],
        scope: "Namespaced",
      },
    ],
    matchConditions: [
      {
        // oc tag's `<stream>:<tag>` names (answered 403), and Go clients' empty image (removed).
        name: "colon-name-or-empty-image",
        expression:
          "(has(object.metadata.name) && object.metadata.name.contains(':')) || " +
          "(has(object.image) && (!has(object.image.dockerImageReference) || object.image.dockerImageReference == ''))",
      },
    ],
    failurePolicy: "Fail",
    sideEffects: "None",
    timeoutSeconds: 5,
    reinvocationPolicy: "Never",
  },
  {
    id: "imagestreamimports",
    name: "imagestreamimports.admission.image.openshift.io",
    path: `${ADMISSION_PATH_PREFIX}imagestreamimports`,
    rules: [
      {
        apiGroups: ["image.openshift.io"],
        apiVersions: ["v1"],
        resources: ["imagestreamimports"],
        operations: ["CREATE"],
        scope: "Namespaced",
      },
    ],
    matchConditions: [],
    failurePolicy: "Fail",
    // Creates or updates the ImageStream, except in a dry run.
    sideEffects: "NoneOnDryRun",
    timeoutSeconds: IMPORT_WEBHOOK_TIMEOUT_SECONDS,
    reinvocationPolicy: "Never",
  },
]);

export type WebhookClientConfig =
  | { url: string; caBundle?: string }
  | { service: { namespace: string; name: string; port: number; path?: string }; caBundle?: string };

export interface LabelSelector {
  matchExpressions: { key: string; operator: "In" | "NotIn"; values: string[] }[];
}

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * The namespaces the webhooks apply to: never `excluded` (the operator's own and kube-system, so
 * that they never wait for the operator: no deadlock while it is down), and only `watched` when
 * the operator watches a list of namespaces.
 */
export function webhookNamespaceSelector(
  excluded: readonly string[],
  watched: readonly string[],
): LabelSelector {
  const matchExpressions: LabelSelector["matchExpressions"] = [
    { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: [...new Set(excluded)].sort() },
  ];
  if (watched.length > 0)
    matchExpressions.push({
      key: NAMESPACE_NAME_LABEL,
      operator: "In",
      values: [...new Set(watched)].sort(),
    });
  return { matchExpressions };
}

/** One webhook of the configuration, without clientConfig and namespaceSelector (those depend on the install). */
export function webhookSpec(definition: WebhookDefinition): Record<string, unknown> {
  return {
    name: definition.name,
    admissionReviewVersions: ["v1"],
    rules: definition.rules,
    ...(definition.matchConditions.length > 0 ? { matchConditions: definition.matchConditions } : {}),
    failurePolicy: definition.failurePolicy,
    matchPolicy: "Equivalent",
    sideEffects: definition.sideEffects,
    timeoutSeconds: definition.timeoutSeconds,
    reinvocationPolicy: definition.reinvocationPolicy,
  };
}

export interface WebhookConfigurationOptions {
  name: string;
  /** Base URL (url clientConfig) or the Service and its port. */
  endpoint: { url: string } | { service: { namespace: string; name: string; port: number } };
  caBundle?: string;
  namespaceSelector: LabelSelector;
  labels?: Record<string, string>;
}

function clientConfig(options: WebhookConfigurationOptions, path: string): WebhookClientConfig {
  const caBundle = options.caBundle ? { caBundle: Buffer.from(options.caBundle).toString("base64") } : {};
  if ("url" in options.endpoint) return { url: `${options.endpoint.url}${path}`, ...caBundle };
  return { service: { ...options.endpoint.service, path }, ...caBundle };
}

/** The whole MutatingWebhookConfiguration (what the operator applies when kube-apiserver reaches it by URL). */
export function mutatingWebhookConfiguration(options: WebhookConfigurationOptions): Record<string, unknown> {
  return {
    apiVersion: apiVersionOf(MUTATING_WEBHOOK_CONFIGURATIONS),
    kind: "MutatingWebhookConfiguration",
    metadata: { name: options.name, ...(options.labels ? { labels: options.labels } : {}) },
    webhooks: WEBHOOKS.map((definition) => ({
      ...webhookSpec(definition),
      clientConfig: clientConfig(options, definition.path),
      namespaceSelector: options.namespaceSelector,
    })),
  };
}

/**
 * The server-side apply body that sets only the caBundle of the named webhooks (those of the
 * configuration as it is stored: the chart owns everything else).
 */
export function caBundleApplyConfiguration(
  name: string,
  webhookNames: readonly string[],
  caBundle: string,
): Record<string, unknown> {
  const encoded = Buffer.from(caBundle).toString("base64");
  return {
    apiVersion: apiVersionOf(MUTATING_WEBHOOK_CONFIGURATIONS),
    kind: "MutatingWebhookConfiguration",
    metadata: { name },
    webhooks: webhookNames.map((webhook) => ({ name: webhook, clientConfig: { caBundle: encoded } })),
  };
}

/** The CA bundle (PEM) each webhook of a stored configuration trusts, by webhook name. */
export function publishedCaBundles(configuration: unknown): Map<string, string> {
  const bundles = new Map<string, string>();
  const webhooks = (configuration as { webhooks?: unknown } | undefined)?.webhooks;
  if (!Array.isArray(webhooks)) return bundles;
  for (const webhook of webhooks) {
    const name = (webhook as { name?: unknown }).name;
    const encoded = (webhook as { clientConfig?: { caBundle?: unknown } }).clientConfig?.caBundle;
    if (typeof name !== "string") continue;
    bundles.set(name, typeof encoded === "string" ? Buffer.from(encoded, "base64").toString("utf8") : "");
  }
  return bundles;
}

export function webhookById(id: WebhookId): WebhookDefinition {
  const found = WEBHOOKS.find((w) => w.id === id);
  if (!found) throw new Error(`no webhook ${id}`);
  return found;
}
