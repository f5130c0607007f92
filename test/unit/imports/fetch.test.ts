// The registry side of one import, with a fake registry client: what is recorded for an
// unchanged answer, and that a caller's deadline holds even when the client does not notice it.
import { describe, expect, it } from "vitest";
import { fetchTagImage, type PlannedTagImport, repositoryTags } from "../../../src/imports/index.ts";
import { pullSecretKeychain, type RegistryClient } from "../../../src/registry/index.ts";

const D1 = `sha256:${"1".repeat(64)}`;
const keychain = pullSecretKeychain("team", []);
const planned: PlannedTagImport = {
  tag: "1.0",
  from: "registry.example.com/team/app:1.0",
  insecure: false,
  importMode: "Legacy",
  causes: ["Requested"],
};

function fakeClient(parts: Partial<RegistryClient>): RegistryClient {
  return parts as RegistryClient;
}

describe("fetchTagImage", () => {
  it("keeps the recorded digest when the registry confirms the known one", async () => {
    const client = fakeClient({
      inspect: async () => ({
        kind: "unchanged",
        reference: {} as never,
        digest: D1,
        mediaType: "",
        manifestSize: 0,
      }),
    });
    const fetched = await fetchTagImage(client, planned, {
      keychain,
      signal: new AbortController().signal,
      recordedDigest: D1,
      knownDigest: D1,
    });
    expect(fetched).toEqual({ outcome: { tag: "1.0", ok: true, digest: D1, pullSpec: planned.from } });
  });

  it("gives up when its signal aborts, even if the registry call never settles", async () => {
    const client = fakeClient({ inspect: () => new Promise(() => undefined) });
    const deadline = new AbortController();
    const fetching = fetchTagImage(client, planned, { keychain, signal: deadline.signal });
    deadline.abort(new Error("deadline passed"));
    await expect(fetching).rejects.toThrow("deadline passed");
  });
});

describe("repositoryTags", () => {
  it("chooses the tags to import in the core's order, up to the limit, and names the rest", async () => {
    const client = fakeClient({ listTags: async () => ["0.9", "latest", "1.0", "2.0", "edge"] });
    const tags = await repositoryTags(
      client,
      { from: "registry.example.com/team/app", insecure: false, limit: 3, causes: ["Requested"] },
      new Set(["edge"]),
      { keychain, signal: new AbortController().signal },
    );
    expect(tags).toEqual({ chosen: ["latest", "2.0", "1.0"], beyondLimit: ["0.9"] });
  });
});
