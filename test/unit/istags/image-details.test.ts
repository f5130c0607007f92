import { describe, expect, it } from "vitest";
import type { ImageStream } from "../../../src/api/index.ts";
import { insecureFor, registryImageDetails } from "../../../src/istags/index.ts";
import {
  createRegistryClient,
  type HttpRequest,
  type InspectOptions,
  type RegistryClient,
} from "../../../src/registry/index.ts";
import type { SharedInformer } from "../../../src/runtime/index.ts";
import { pullSecret } from "../registry/fixtures.ts";

const DIGEST = `sha256:${"c".repeat(64)}`;

function stream(name: string, extra: Partial<ImageStream> = {}): ImageStream {
  return { metadata: { name, namespace: "ns" }, ...extra };
}

describe("insecureFor", () => {
  const none = () => undefined;

  it("follows the stream annotation and the tag's importPolicy", () => {
    const annotated = stream("a", {
      metadata: { name: "a", annotations: { "openshift.io/image.insecureRepository": "true" } },
    });
    expect(insecureFor(annotated, "v1", none)).toBe(true);
    const tagged = stream("a", {
      spec: { tags: [{ name: "v1", importPolicy: { insecure: true } }, { name: "v2" }] },
    });
    expect(insecureFor(tagged, "v1", none)).toBe(true);
    expect(insecureFor(tagged, "v2", none)).toBe(false);
  });

  it("follows a tracked tag's source one level deep", () => {
    const source = stream("src", { spec: { tags: [{ name: "v1", importPolicy: { insecure: true } }] } });
    const follower = stream("a", {
      spec: {
        tags: [
          { name: "cross", from: { kind: "ImageStreamTag", name: "src:v1" } },
          { name: "local", from: { kind: "ImageStreamTag", name: "v1" } },
          { name: "v1", from: { kind: "ImageStreamTag", name: "src:v1" } },
          { name: "pin", from: { kind: "ImageStreamImage", name: `src@${DIGEST}` } },
        ],
      },
    });
    const lookup = (_ns: string, name: string) =>
      name === "src" ? source : name === "a" ? follower : undefined;
    expect(insecureFor(follower, "cross", lookup)).toBe(true);
    // `local` follows a's own v1, which follows src:v1: two levels, not followed.
    expect(insecureFor(follower, "local", lookup)).toBe(false);
    expect(insecureFor(follower, "pin", lookup)).toBe(false);
  });
});

describe("registryImageDetails", () => {
  it("inspects the repository by digest with the namespace's credentials and the insecure flag", async () => {
    const calls: { reference: string; options: InspectOptions | undefined }[] = [];
    const registry = {
      inspect: async (reference: string, options?: InspectOptions) => {
        calls.push({ reference, options });
        return {
          kind: "image",
          reference,
          digest: DIGEST,
          mediaType: "m",
          manifestSize: 1,
          config: {},
          layers: [],
        };
      },
    } as unknown as RegistryClient;
    const secrets = { list: () => [pullSecret("a", "reg.test:5000")] } as unknown as SharedInformer<never>;
    const details = registryImageDetails({ registry, secrets: [secrets] });
    const image = await details({
      namespace: "ns",
      dockerImageReference: `reg.test:5000/team/app@${DIGEST}`,
      digest: DIGEST,
      insecure: true,
    });
    expect(image.metadata?.name).toBe(DIGEST);
    expect(calls[0]?.reference).toBe(`reg.test:5000/team/app@${DIGEST}`);
    expect(calls[0]?.options?.insecure).toBe(true);
    const keychain = calls[0]?.options?.keychain;
    expect(await keychain?.resolve({ registry: "reg.test:5000", repository: "team/app" })).toMatchObject({
      username: "a",
    });
  });

  it("refuses hosts the registry policy blocks without asking the registry", async () => {
    let asked = false;
    // The policy lives in the registry client: a real one, whose transport must never be called.
    const registry = createRegistryClient({
      hostPolicy: { block: ["reg.test"] },
      transport: async (_req: HttpRequest) => {
        asked = true;
        throw new Error("unexpected");
      },
    });
    const details = registryImageDetails({ registry, secrets: [] });
    await expect(
      details({
        namespace: "ns",
        dockerImageReference: `reg.test/app@${DIGEST}`,
        digest: DIGEST,
        insecure: false,
      }),
    ).rejects.toThrow("blocked");
    expect(asked).toBe(false);
  });
});
