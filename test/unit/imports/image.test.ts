// OpenShift's Image built from registry facts (moved here with toImage from the registry client).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { imageManifests, imageMetadata, toImage } from "../../../src/imports/index.ts";
import { MediaTypes } from "../../../src/registry/index.ts";
import { parseImageConfig } from "../../../src/registry/manifest.ts";

const sha = (s: string | Buffer) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
const L1 = sha("layer1");
const C = sha("config");

describe("image metadata and Image mapping", () => {
  const config = parseImageConfig(
    Buffer.from(
      JSON.stringify({
        architecture: "arm",
        os: "linux",
        variant: "v7",
        created: "2024-05-01T10:00:00Z",
        author: "me",
        config: {
          Env: ["PATH=/bin"],
          Cmd: ["sh"],
          Entrypoint: null,
          Labels: { a: "b" },
          ExposedPorts: { "8080/tcp": {} },
          User: "1001",
          WorkingDir: "/app",
          Volumes: { "/data": {} },
        },
        rootfs: { type: "layers", diff_ids: [] },
      }),
    ),
    "x",
  );
  const layerFacts = [
    { digest: L1, size: 100, mediaType: "m" },
    { digest: C, size: 23, mediaType: "m" },
  ];
  const layers = [
    { name: L1, size: 100, mediaType: "m" },
    { name: C, size: 23, mediaType: "m" },
  ];

  it("keeps the fields OpenShift records and sums layer sizes", () => {
    expect(imageMetadata(config, layerFacts)).toEqual({
      Architecture: "arm",
      Os: "linux",
      Variant: "v7",
      Created: "2024-05-01T10:00:00Z",
      Author: "me",
      Config: {
        Env: ["PATH=/bin"],
        Cmd: ["sh"],
        Labels: { a: "b" },
        ExposedPorts: { "8080/tcp": {} },
        User: "1001",
        WorkingDir: "/app",
      },
      Size: 123,
    });
  });

  it("leaves out empty variant, author, user, working directory and labels", () => {
    const empty = parseImageConfig(
      Buffer.from(
        JSON.stringify({ variant: "", author: "", config: { User: "", WorkingDir: "", Labels: {} } }),
      ),
      "x",
    );
    expect(imageMetadata(empty, [])).toEqual({ Config: {}, Size: 0 });
  });

  it("builds an Image named by digest with the user's pull spec", () => {
    const metadata = imageMetadata(config, layerFacts);
    const image = toImage(
      {
        kind: "image",
        digest: L1,
        mediaType: MediaTypes.dockerManifest,
        manifestSize: 10,
        config,
        layers: layerFacts,
      },
      "redis:2",
    );
    expect(image).toEqual({
      metadata: { name: L1, creationTimestamp: "2024-05-01T10:00:00Z" },
      dockerImageReference: `redis@${L1}`,
      dockerImageManifestMediaType: MediaTypes.dockerManifest,
      dockerImageMetadata: metadata,
      dockerImageMetadataVersion: "1.0",
      dockerImageLayers: layers,
    });
  });

  it("builds a list Image with its sub-manifests", () => {
    const manifests = [
      { digest: C, mediaType: MediaTypes.ociManifest, manifestSize: 1, architecture: "amd64", os: "linux" },
    ];
    const entries = [
      {
        digest: C,
        mediaType: MediaTypes.ociManifest,
        size: 1,
        platform: { architecture: "amd64", os: "linux" },
      },
    ];
    expect(imageManifests(entries)).toEqual(manifests);
    expect(
      toImage(
        { kind: "list", digest: L1, mediaType: MediaTypes.ociIndex, manifestSize: 9, manifests: entries },
        "q.io/a:1",
      ),
    ).toEqual({
      metadata: { name: L1 },
      dockerImageReference: `q.io/a@${L1}`,
      dockerImageManifestMediaType: MediaTypes.ociIndex,
      dockerImageManifests: manifests,
    });
  });
});
