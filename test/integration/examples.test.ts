// The manifests in examples/ against a real kube-apiserver (server-side dry run: full
// validation, CEL rules and admission, nothing stored) and against the operator's own trigger
// parser, so the documentation cannot drift from the CRD schemas or the trigger grammar.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { loadAll } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streamNameFromIstagObjectName } from "../../src/api/index.ts";
import {
  evaluateWorkload,
  isWorkloadKind,
  parseWorkloadTriggers,
  type TagLookup,
  type WorkloadObject,
} from "../../src/triggers/index.ts";
import { type ControlPlane, createNamespace, kubectl, useSharedControlPlane } from "../harness/index.ts";

const EXAMPLES_DIR = join(import.meta.dirname, "..", "..", "examples");
/** The demo's manifests hold ${REGISTRY} placeholders that scripts/demo.sh fills in. */
const DEMO_DIR = join(EXAMPLES_DIR, "demo");
/** Helm values and a registry configuration, not manifests: deploy.test.ts renders and checks them. */
const NOT_MANIFESTS = /(-values\.yaml|-registry-config\.yml)$/;

interface TagRef {
  name: string;
  from?: { kind?: string; name?: string; namespace?: string };
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { tags?: TagRef[] };
  tag?: TagRef;
}

interface ExampleFile {
  /** Path relative to examples/, as the README links it. */
  path: string;
  text: string;
  docs: Manifest[];
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== "object" || value === null) return false;
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  return (
    typeof apiVersion === "string" &&
    typeof kind === "string" &&
    typeof metadata === "object" &&
    metadata !== null &&
    typeof (metadata as Record<string, unknown>).name === "string"
  );
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === DEMO_DIR ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) && !NOT_MANIFESTS.test(entry.name) ? [path] : [];
  });
}

function readExample(file: string): ExampleFile {
  const text = readFileSync(file, "utf8");
  const docs = loadAll(text).filter((doc) => doc !== null && doc !== undefined);
  const path = relative(EXAMPLES_DIR, file);
  for (const doc of docs) {
    if (!isManifest(doc)) throw new Error(`${path}: a document without apiVersion, kind or metadata.name`);
  }
  return { path, text, docs: docs as Manifest[] };
}

const examples = yamlFiles(EXAMPLES_DIR).sort().map(readExample);

/** Namespaces a file names explicitly (its objects' metadata.namespace). */
function namespacesOf(example: ExampleFile): string[] {
  return [
    ...new Set(example.docs.flatMap((doc) => (doc.metadata.namespace ? [doc.metadata.namespace] : []))),
  ];
}

/** The stream and the spec tags an ImageStream or ImageStreamTag object defines. */
function tagsOf(doc: Manifest): { stream: string; tags: TagRef[] } | undefined {
  if (doc.kind === "ImageStream") return { stream: doc.metadata.name, tags: doc.spec?.tags ?? [] };
  if (doc.kind !== "ImageStreamTag" || !doc.tag) return undefined;
  const stream = streamNameFromIstagObjectName(doc.metadata.name, doc.tag.name);
  return stream === null ? undefined : { stream, tags: [doc.tag] };
}

/** `<namespace>/<stream>:<tag>` for every tag an example defines. */
function definedTags(): Set<string> {
  const defined = new Set<string>();
  for (const doc of examples.flatMap((example) => example.docs)) {
    const found = tagsOf(doc);
    for (const tag of found?.tags ?? []) {
      defined.add(`${doc.metadata.namespace ?? ""}/${found?.stream}:${tag.name}`);
    }
  }
  return defined;
}

describe("examples/", () => {
  it("has manifests, each with a leading comment that explains it", () => {
    expect(examples.length).toBeGreaterThanOrEqual(20);
    for (const example of examples) {
      expect(example.text.startsWith("# "), `${example.path} starts with a comment`).toBe(true);
      expect(example.docs.length, `${example.path} has objects`).toBeGreaterThan(0);
    }
  });

  it("lists every manifest in examples/README.md, and every link there exists", () => {
    const readme = readFileSync(join(EXAMPLES_DIR, "README.md"), "utf8");
    for (const example of examples) expect(readme).toContain(`](${example.path})`);
    const links = [...readme.matchAll(/\]\(([^)#]+\.ya?ml)\)/g)].map((m) => m[1]);
    expect(links.sort()).toEqual(examples.map((e) => e.path).sort());
  });

  it("never defines one object twice, so every example can be applied into one namespace", () => {
    const seen = new Map<string, string>();
    for (const example of examples) {
      for (const doc of example.docs) {
        const key = `${doc.kind}/${doc.metadata.namespace ?? ""}/${doc.metadata.name}`;
        expect(seen.get(key), `${key} in ${example.path}`).toBeUndefined();
        seen.set(key, example.path);
      }
    }
  });

  it("has trigger annotations the operator accepts, selecting containers that exist and tags the examples define", () => {
    const tags = definedTags();
    const image = { dockerImageReference: "docker.io/library/example@sha256:".padEnd(97, "0") };
    const everyTagHasAnImage: TagLookup = () => image;
    let active = 0;
    let paused = 0;
    for (const example of examples) {
      for (const doc of example.docs) {
        if (!isWorkloadKind(doc.kind) || !doc.metadata.annotations?.["image.openshift.io/triggers"]) continue;
        const workload = doc as unknown as WorkloadObject;
        const where = `${example.path} ${doc.kind}/${doc.metadata.name}`;
        const { triggers, problems } = parseWorkloadTriggers(workload, doc.kind);
        expect(problems, where).toEqual([]);
        // push/ follows tags that `docker push` creates (docs/push.md), not an example.
        for (const trigger of example.path.startsWith("push/") ? [] : triggers) {
          const { namespace, stream, tag } = trigger.from;
          expect(tags, `${where} follows ${namespace}/${stream}:${tag}`).toContain(
            `${namespace}/${stream}:${tag}`,
          );
        }
        // With an image for every tag, each active trigger resolves its container and changes it.
        const evaluation = evaluateWorkload(workload, doc.kind, everyTagHasAnImage);
        expect(evaluation.problems, where).toEqual([]);
        const activeHere = triggers.filter((t) => !t.paused).length;
        expect(evaluation.changes, where).toHaveLength(activeHere);
        active += activeHere;
        paused += triggers.length - activeHere;
      }
    }
    expect(active).toBeGreaterThanOrEqual(6);
    expect(paused).toBeGreaterThanOrEqual(1);
  });

  it("has tracking tags whose sources the examples define", () => {
    const tags = definedTags();
    let followers = 0;
    for (const example of examples) {
      for (const doc of example.docs) {
        const found = tagsOf(doc);
        for (const ref of found?.tags ?? []) {
          if (ref.from?.kind !== "ImageStreamTag" || !ref.from.name) continue;
          // A bare tag name means a tag of the same stream.
          const name = ref.from.name.includes(":") ? ref.from.name : `${found?.stream}:${ref.from.name}`;
          const namespace = ref.from.namespace || doc.metadata.namespace || "";
          expect(tags, `${example.path} follows ${namespace}/${name}`).toContain(`${namespace}/${name}`);
          followers++;
        }
      }
    }
    expect(followers).toBeGreaterThanOrEqual(4);
  });
});

describe("examples/ on a real API server (kubectl apply --dry-run=server)", () => {
  let cp: ControlPlane;
  let namespace: string;
  const createdNamespaces: string[] = [];

  beforeAll(async () => {
    cp = useSharedControlPlane();
    namespace = await createNamespace(cp, "examples");
    // Objects in a namespace that only exists in a dry run cannot be validated: create the
    // namespaces the examples name for real (the server dry run of their Namespace objects
    // then checks an update; --save-config as if `kubectl apply` had created them).
    for (const name of new Set(examples.flatMap(namespacesOf))) {
      const exists = await kubectl(cp, ["get", "namespace", name]);
      if (exists.code === 0) continue;
      const created = await kubectl(cp, ["create", "namespace", name, "--save-config"]);
      expect(created.stderr).toBe("");
      createdNamespaces.push(name);
    }
  });

  afterAll(async () => {
    for (const name of [namespace, ...createdNamespaces]) {
      if (name) await kubectl(cp, ["delete", "namespace", name, "--wait=false"]);
    }
  });

  it.each(examples.map((example) => [example.path, example] as const))(
    "%s applies",
    async (_path, example) => {
      // Files that name namespaces keep them; the others go to a fresh namespace, as a user's
      // `kubectl apply -n` would.
      const target = namespacesOf(example).length > 0 ? [] : ["-n", namespace];
      const result = await kubectl(cp, [
        "apply",
        "--dry-run=server",
        "-f",
        join(EXAMPLES_DIR, example.path),
        ...target,
      ]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const applied = result.stdout.split("\n").filter((line) => line.endsWith("(server dry run)"));
      expect(applied).toHaveLength(example.docs.length);
      for (const doc of example.docs) {
        expect(result.stdout).toContain(`/${doc.metadata.name} `);
      }
    },
  );
});
