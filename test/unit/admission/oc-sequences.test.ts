// What the operator makes of every form of `oc tag`: test/fixtures/oc/tag-sequences.json holds
// the requests oc sends (from openshift/oc pkg/cli/tag) and the meaning OpenShift gives each
// form; this test checks the webhook's answer to oc's POST and feeds the spec tag oc ends up
// writing to the import core. Stage 2 replays the same requests against kube-apiserver.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkImageStreamImport,
  imageStreamTagCreateDecision,
  validateImageStreamImport,
} from "../../../src/admission/index.ts";
import type { ImageStream, TagReference } from "../../../src/api/index.ts";
import {
  computeStatus,
  DEFAULT_IMPORT_SETTINGS,
  planImports,
  REPOSITORY_CHECK_ANNOTATION,
  resolveTagPullSpec,
} from "../../../src/imports/index.ts";
import { FIXTURES_DIR } from "../../fixtures/crd-fixtures.ts";

interface Step {
  method: string;
  path: string;
  body?: Record<string, unknown> & { fromGet?: boolean; setTag?: TagReference; removeAnnotation?: string };
  expect: { code: number; reason?: string; messageContains?: string; message?: string };
}

interface Form {
  name: string;
  command: string;
  steps: Step[];
  operator: null | {
    import?: { from: string; insecure: boolean; scheduled: boolean; importMode: string };
    resolvesTo?: { dockerImageReference: string; image: string };
    whenSourceMoves?: "stays" | "follows";
    referencePolicy?: "Local";
  };
}

const plan = JSON.parse(readFileSync(join(FIXTURES_DIR, "oc", "tag-sequences.json"), "utf8")) as {
  currentNamespace: string;
  given: ImageStream[];
  forms: Form[];
};

const NOW = new Date("2024-05-02T12:00:00Z");
const settings = { ...DEFAULT_IMPORT_SETTINGS };
const D3 = `sha256:${"3".repeat(64)}`;

function namespaceOf(path: string): string {
  return path.split("/")[5] ?? "";
}

/** The destination stream after the form's writes to imagestreams: what the operator then sees. */
function streamsAfter(form: Form): ImageStream[] {
  const streams = new Map(
    plan.given.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, structuredClone(s)]),
  );
  for (const step of form.steps) {
    if (!step.path.includes("/imagestreams") || step.expect.code >= 400 || !step.body) continue;
    const namespace = namespaceOf(step.path);
    if (step.method === "POST") {
      const created = structuredClone(step.body) as unknown as ImageStream;
      created.metadata = { ...created.metadata, namespace, generation: 1 };
      delete created.status;
      streams.set(`${namespace}/${created.metadata.name}`, created);
    } else if (step.method === "PUT" && step.body.fromGet && step.body.setTag) {
      const key = `${namespace}/${step.path.split("/").pop()}`;
      const stream = streams.get(key);
      if (!stream) throw new Error(`${form.command}: PUT of ${key}, which the GET did not find`);
      const tags = [...(stream.spec?.tags ?? [])];
      const at = tags.findIndex((t) => t.name === step.body?.setTag?.name);
      if (at >= 0) tags[at] = step.body.setTag;
      else tags.push(step.body.setTag);
      const annotations = { ...(stream.metadata.annotations ?? {}) };
      if (step.body.removeAnnotation) delete annotations[step.body.removeAnnotation];
      streams.set(key, {
        ...stream,
        metadata: { ...stream.metadata, annotations, generation: (stream.metadata.generation ?? 1) + 1 },
        spec: { ...stream.spec, tags },
      });
    }
  }
  return [...streams.values()];
}

/** The destination (namespace, stream, tag) of the form's first ImageStreamTag request. */
function destination(form: Form): { namespace: string; stream: string; tag: string } {
  const put = form.steps.find((s) => s.method === "PUT" && s.path.includes("/imagestreamtags/"));
  const name = decodeURIComponent(put?.path.split("/").pop() ?? "");
  const [stream = "", tag = ""] = name.split(":");
  return { namespace: namespaceOf(put?.path ?? ""), stream, tag };
}

describe("oc tag: the webhook's answer to each POST imagestreamtags", () => {
  const posts = plan.forms.flatMap((form) =>
    form.steps
      .filter((s) => s.method === "POST" && s.path.endsWith("/imagestreamtags"))
      .map((s) => ({ form, step: s })),
  );

  it.each(posts)("$form.command", ({ step }) => {
    const decision = imageStreamTagCreateDecision(step.body);
    expect(decision.allowed).toBe(false);
    if (decision.allowed) return;
    expect(decision.code).toBe(step.expect.code);
    expect(decision.reason).toBe(step.expect.reason);
    expect(decision.message).toContain(step.expect.messageContains);
    const metadata = step.body?.metadata as { name: string } | undefined;
    const name = String(metadata?.name);
    expect(decision.message).toContain(`"${name.replace(":", ".").toLowerCase()}"`);
  });

  it("every form that writes sends the same tag in the ImageStreamTag and in spec.tags", () => {
    for (const form of plan.forms) {
      const istag = form.steps.find((s) => s.method === "POST" && s.path.endsWith("/imagestreamtags"));
      if (!istag) continue;
      const sent = (istag.body as { tag: TagReference }).tag;
      const write = form.steps.find((s) => s.path.includes("/imagestreams") && s.method !== "GET");
      const written =
        write?.body?.setTag ?? (write?.body?.spec as { tags: TagReference[] } | undefined)?.tags[0];
      const removesCheck = write?.body?.removeAnnotation === REPOSITORY_CHECK_ANNOTATION;
      // oc drops the generation when the stored tag has none (servers without tag generations).
      expect(written, form.command).toEqual(removesCheck ? { ...sent, generation: null } : sent);
    }
  });
});

describe("oc tag: what the operator makes of the spec tag oc writes", () => {
  const forms = plan.forms.filter((f) => f.operator !== null);

  it.each(forms)("$command: $name", (form) => {
    const dest = destination(form);
    const streams = streamsAfter(form);
    const stream = streams.find(
      (s) => s.metadata.namespace === dest.namespace && s.metadata.name === dest.stream,
    );
    expect(stream, "destination stream").toBeDefined();
    if (!stream || !form.operator) return;
    const expected = form.operator;

    if (expected.import) {
      const planned = planImports(stream, NOW.getTime(), undefined, settings).tags.find(
        (t) => t.tag === dest.tag,
      );
      expect(planned).toMatchObject({
        from: expected.import.from,
        insecure: expected.import.insecure,
        importMode: expected.import.importMode,
      });
      const tagRef = stream.spec?.tags?.find((t) => t.name === dest.tag);
      expect(tagRef?.importPolicy?.scheduled === true).toBe(expected.import.scheduled);
    }

    if (expected.resolvesTo) {
      const sourceStreams = streams.filter((s) => s !== stream);
      const update = computeStatus({ stream, outcomes: [], now: NOW, settings, sourceStreams });
      const resolved = update?.status?.tags?.find((t) => t.tag === dest.tag);
      expect(resolved?.conditions).toBeUndefined();
      expect(resolved?.items?.[0]).toMatchObject(expected.resolvesTo);

      if (expected.whenSourceMoves && update?.status) {
        // The source tag gets a new image: a pin stays, an alias follows.
        const settled: ImageStream = { ...stream, status: update.status };
        const moved = sourceStreams.map((s) => {
          const copy = structuredClone(s);
          for (const entry of copy.status?.tags ?? []) {
            if (entry.tag !== "3.3") continue;
            const ref = `${entry.items?.[0]?.dockerImageReference.split("@")[0]}@${D3}`;
            entry.items = [
              { created: NOW.toISOString(), dockerImageReference: ref, image: D3, generation: 2 },
              ...(entry.items ?? []),
            ];
          }
          return copy;
        });
        // Same-stream aliases follow the destination's own status tag of the source.
        const own = settled.status?.tags?.find((t) => t.tag === "3.3");
        if (own) {
          const newer = {
            created: NOW.toISOString(),
            dockerImageReference: `registry.example.com/ruby@${D3}`,
            image: D3,
            generation: 2,
          };
          own.items = [newer, ...(own.items ?? [])];
        }
        const next = computeStatus({
          stream: settled,
          outcomes: [],
          now: NOW,
          settings,
          sourceStreams: moved,
        });
        const after = (next?.status ?? settled.status)?.tags?.find((t) => t.tag === dest.tag)?.items?.[0]
          ?.image;
        expect(after).toBe(expected.whenSourceMoves === "follows" ? D3 : expected.resolvesTo.image);
      }
    }

    if (expected.referencePolicy === "Local") {
      const event = {
        created: NOW.toISOString(),
        dockerImageReference: `registry.example.com/ruby@${D3}`,
        image: D3,
        generation: 1,
      };
      expect(resolveTagPullSpec(stream, dest.tag, event, { localRegistryHost: "reg.local:5000" })).toBe(
        `reg.local:5000/${dest.namespace}/${dest.stream}@${D3}`,
      );
      expect(resolveTagPullSpec(stream, dest.tag, event, {})).toBe(event.dockerImageReference);
    }
  });
});

describe("oc import-image: each POST imagestreamimports against the webhook's checks", () => {
  interface ImportForm {
    name: string;
    command: string;
    given: ImageStream | null;
    steps: Array<Step & { expect: Step["expect"] & { needs?: string } }>;
  }
  const imports = JSON.parse(
    readFileSync(join(FIXTURES_DIR, "oc", "import-image-sequences.json"), "utf8"),
  ) as {
    forms: ImportForm[];
  };
  const posts = imports.forms.flatMap((form) =>
    form.steps.filter((s) => s.method === "POST").map((step) => ({ form, step })),
  );

  it.each(posts)("$form.command", ({ form, step }) => {
    const given = form.given
      ? { ...form.given, metadata: { ...form.given.metadata, resourceVersion: "41" } }
      : undefined;
    const body = structuredClone(step.body) as { metadata: { resourceVersion?: string } };
    if (body.metadata.resourceVersion === "<from the GET>") body.metadata.resourceVersion = "41";
    if (body.metadata.resourceVersion === "<older than the stream>") body.metadata.resourceVersion = "40";
    expect(validateImageStreamImport(body)).toEqual([]);
    const check = checkImageStreamImport(body, "team", given, DEFAULT_IMPORT_SETTINGS);
    if (step.expect.code === 409) {
      expect(check).toMatchObject({ ok: false, decision: { code: 409, reason: "Conflict" } });
      return;
    }
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    const isi = check.isi;
    if (isi.spec.import) expect(check.plan.access?.verb).toBe(given ? "update" : "create");
    else expect(check.plan.access).toBeUndefined();
    expect(check.plan.images.map((i) => i.tag)).toEqual((isi.spec.images ?? []).map((i) => i.to?.name));
  });
});
