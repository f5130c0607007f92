import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MediaTypes, type RegistryError } from "../../../src/registry/index.ts";
import {
  assertImageConfig,
  digestOf,
  listEntries,
  parseImageConfig,
  parseManifest,
  verifiedDigest,
} from "../../../src/registry/manifest.ts";

const sha = (s: string | Buffer) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
const L1 = sha("layer1");
const C = sha("config");

const dockerManifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.dockerManifest,
    config: { mediaType: MediaTypes.dockerConfig, digest: C, size: 6 },
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: L1, size: 100 }],
  }),
);

describe("digest verification", () => {
  it("returns the digest of the bytes when the header agrees", () => {
    expect(verifiedDigest(dockerManifest, sha(dockerManifest), undefined, "x")).toBe(sha(dockerManifest));
    expect(verifiedDigest(dockerManifest, undefined, undefined, "x")).toBe(sha(dockerManifest));
  });

  it("rejects a Docker-Content-Digest that does not match the bytes", () => {
    expect(() => verifiedDigest(dockerManifest, L1, undefined, "r/a:1")).toThrow(
      /does not match the manifest received/,
    );
  });

  it("rejects content that is not what was requested by digest", () => {
    const err = (() => {
      try {
        verifiedDigest(dockerManifest, undefined, L1, "r/a");
      } catch (e) {
        return e as RegistryError;
      }
    })();
    expect(err?.reason).toBe("BadResponse");
  });

  it("supports sha512 digests", () => {
    expect(digestOf(Buffer.from("x"), "sha512:")).toMatch(/^sha512:[a-f0-9]{128}$/);
  });
});

describe("parseManifest", () => {
  it("parses a Docker schema 2 manifest", () => {
    const parsed = parseManifest(dockerManifest, MediaTypes.dockerManifest, "x");
    expect(parsed).toMatchObject({
      kind: "image",
      mediaType: MediaTypes.dockerManifest,
      config: { digest: C },
    });
  });

  it("takes the media type from the document when the header is generic, or infers it", () => {
    const oci = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: MediaTypes.ociConfig, digest: C, size: 1 },
        layers: [],
      }),
    );
    expect(parseManifest(oci, "application/json", "x").mediaType).toBe(MediaTypes.ociManifest);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    expect(parseManifest(index, undefined, "x")).toEqual({
      kind: "list",
      mediaType: MediaTypes.ociIndex,
      manifests: [],
    });
  });

  it("refuses schema 1 with a clear Unsupported error", () => {
    const v1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: "a", tag: "b", fsLayers: [] }));
    for (const type of [MediaTypes.dockerSchema1Signed, undefined]) {
      expect(() => parseManifest(v1, type, "r/a:b")).toThrow(
        /schema 1 manifest format, which is not supported/,
      );
    }
  });

  it("reports invalid documents as InvalidManifest", () => {
    expect(() => parseManifest(Buffer.from("nope"), undefined, "x")).toThrow(/not valid JSON/);
    const bad = Buffer.from(
      JSON.stringify({ mediaType: MediaTypes.ociManifest, config: { digest: "x" }, layers: [] }),
    );
    expect(() => parseManifest(bad, undefined, "x")).toThrow(/invalid config descriptor/);
  });

  it("refuses artifacts that are not container images", () => {
    expect(() =>
      assertImageConfig({ mediaType: "application/vnd.cncf.helm.config.v1+json" }, "r/chart:1"),
    ).toThrow(/not a container image/);
    expect(() => assertImageConfig({ mediaType: MediaTypes.ociConfig }, "x")).not.toThrow();
  });
});

describe("list entries", () => {
  it("maps platforms and leaves attestations out", () => {
    const index = parseManifest(
      Buffer.from(
        JSON.stringify({
          mediaType: MediaTypes.ociIndex,
          manifests: [
            {
              mediaType: MediaTypes.ociManifest,
              digest: L1,
              size: 500,
              platform: { architecture: "arm64", os: "linux", variant: "v8" },
            },
            {
              mediaType: MediaTypes.ociManifest,
              digest: C,
              size: 400,
              platform: { architecture: "amd64", os: "linux" },
            },
            {
              mediaType: MediaTypes.ociManifest,
              digest: sha("att"),
              size: 300,
              platform: { architecture: "unknown", os: "unknown" },
              annotations: { "vnd.docker.reference.type": "attestation-manifest" },
            },
          ],
        }),
      ),
      undefined,
      "x",
    );
    if (index.kind !== "list") throw new Error("expected a list");
    expect(listEntries(index.manifests)).toEqual([
      {
        digest: L1,
        mediaType: MediaTypes.ociManifest,
        size: 500,
        platform: { architecture: "arm64", os: "linux", variant: "v8" },
      },
      {
        digest: C,
        mediaType: MediaTypes.ociManifest,
        size: 400,
        platform: { architecture: "amd64", os: "linux" },
      },
    ]);
  });
});

describe("image config", () => {
  it("keeps the fields of the right type", () => {
    const config = Buffer.from(
      JSON.stringify({
        architecture: "arm",
        os: 7,
        author: "",
        config: {
          Env: ["A=1"],
          Cmd: "sh",
          Labels: { a: "b", n: 1 },
          ExposedPorts: { "80/tcp": {} },
          User: "",
        },
      }),
    );
    expect(parseImageConfig(config, "x")).toEqual({
      architecture: "arm",
      author: "",
      config: { Env: ["A=1"], Labels: { a: "b" }, ExposedPorts: ["80/tcp"], User: "" },
    });
  });

  it("refuses a config that is not a JSON object", () => {
    expect(() => parseImageConfig(Buffer.from("[1]"), "r/a:1")).toThrow(
      'the image config of "r/a:1" is not an object',
    );
    expect(() => parseImageConfig(Buffer.from("{"), "r/a:1")).toThrow(/not valid JSON/);
  });
});
