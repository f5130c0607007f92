import { describe, expect, it } from "vitest";
import {
  choosePlatform,
  type ManifestListEntry,
  selectFromManifestList,
  tagPlatformPreferences,
} from "../../../src/imports/index.ts";

const entries: ManifestListEntry[] = [
  { digest: "sha256:arm", os: "linux", architecture: "arm", variant: "v7" },
  { digest: "sha256:arm64", os: "linux", architecture: "arm64", variant: "v8" },
  { digest: "sha256:amd64", os: "linux", architecture: "amd64" },
  { digest: "sha256:win", os: "windows", architecture: "amd64" },
  { digest: "sha256:att", os: "unknown", architecture: "unknown" },
];

describe("choosePlatform", () => {
  it("prefers the tag's prefer-arch / prefer-os annotations", () => {
    expect(choosePlatform(entries, { preferArch: "arm64" })?.digest).toBe("sha256:arm64");
    expect(choosePlatform(entries, { preferOs: "windows" })?.digest).toBe("sha256:win");
    expect(choosePlatform(entries, { preferArch: "aarch64" })?.digest).toBe("sha256:arm64");
    expect(
      choosePlatform(entries, { preferArch: "arm64", platform: { os: "linux", architecture: "arm" } })
        ?.digest,
    ).toBe("sha256:arm64");
  });

  it("falls back to the configured platform, with and without variant", () => {
    expect(
      choosePlatform(entries, { platform: { os: "linux", architecture: "arm", variant: "v7" } })?.digest,
    ).toBe("sha256:arm");
    expect(
      choosePlatform(entries, { platform: { os: "linux", architecture: "arm64", variant: "v9" } })?.digest,
    ).toBe("sha256:arm64");
    expect(
      choosePlatform(entries, { preferArch: "s390x", platform: { os: "linux", architecture: "arm" } })
        ?.digest,
    ).toBe("sha256:arm");
  });

  it("then linux/amd64, then the first runnable entry", () => {
    expect(choosePlatform(entries)?.digest).toBe("sha256:amd64");
    expect(choosePlatform(entries, { preferArch: "ppc64le" })?.digest).toBe("sha256:amd64");
    expect(choosePlatform([entries[4]!, entries[1]!, entries[0]!])?.digest).toBe("sha256:arm64");
    expect(choosePlatform([entries[4]!])?.digest).toBe("sha256:att");
    expect(choosePlatform([])).toBeUndefined();
  });
});

describe("selectFromManifestList", () => {
  const list = { digest: "sha256:list", entries };

  it("Legacy records the chosen platform's digest", () => {
    expect(selectFromManifestList(list, "Legacy")).toEqual({ ok: true, digest: "sha256:amd64" });
    expect(selectFromManifestList(list, "Legacy", { preferArch: "arm64" })).toEqual({
      ok: true,
      digest: "sha256:arm64",
    });
  });

  it("PreserveOriginal keeps the list digest and its sub-manifests", () => {
    expect(selectFromManifestList(list, "PreserveOriginal")).toEqual({
      ok: true,
      digest: "sha256:list",
      manifests: entries,
    });
  });

  it("fails on an empty list in Legacy mode", () => {
    expect(selectFromManifestList({ digest: "sha256:e", entries: [] }, "Legacy")).toMatchObject({
      ok: false,
      reason: "NotFound",
    });
  });
});

describe("tagPlatformPreferences", () => {
  it("reads the annotations, ignoring blanks and null annotations", () => {
    expect(
      tagPlatformPreferences({
        name: "t",
        annotations: {
          "importer.image.openshift.io/prefer-arch": "arm64",
          "importer.image.openshift.io/prefer-os": " ",
        },
      }),
    ).toEqual({ preferArch: "arm64" });
    expect(tagPlatformPreferences({ name: "t", annotations: null })).toEqual({});
  });
});
