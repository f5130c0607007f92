import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  classifyEvent,
  classifyEvents,
  NOTIFICATION_MEDIA_TYPE,
  parseEnvelope,
  type RegistryEvent,
  verifyNotificationSecret,
} from "../../../src/push/index.ts";

const fixture = readFileSync(new URL("../../fixtures/receivers/distribution.json", import.meta.url));
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

function push(repository: string, extra: Partial<RegistryEvent["target"]> = {}, id = "e1"): RegistryEvent {
  return { id, action: "push", target: { repository, mediaType: MANIFEST, digest: D1, tag: "v1", ...extra } };
}

describe("verifyNotificationSecret", () => {
  const auth = { header: "Authorization", secret: "Bearer 0123456789abcdef" };
  it("accepts the configured header value only", () => {
    expect(verifyNotificationSecret({ authorization: "Bearer 0123456789abcdef" }, auth)).toBe(true);
    expect(verifyNotificationSecret({ authorization: ["Bearer 0123456789abcdef", "x"] }, auth)).toBe(true);
    expect(verifyNotificationSecret({ authorization: "Bearer 0123456789abcdeX" }, auth)).toBe(false);
    expect(verifyNotificationSecret({ "x-other": "Bearer 0123456789abcdef" }, auth)).toBe(false);
    expect(verifyNotificationSecret({}, auth)).toBe(false);
  });
});

describe("parseEnvelope", () => {
  it("parses distribution's documented envelope", () => {
    const parsed = parseEnvelope(fixture, NOTIFICATION_MEDIA_TYPE);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.events.map((e) => e.action)).toEqual(["push", "push", "pull"]);
    expect(parsed.events[0]).toMatchObject({
      id: "6a2a5b9e-8f5c-4c1e-9f43-1f0e2d3c4b5a",
      target: { repository: "team/app", tag: "v1", size: 708, mediaType: MANIFEST },
      request: { method: "PUT", host: "registry.example.com" },
      actor: { name: "system:serviceaccount:team:builder" },
    });
  });

  it("accepts plain JSON and charset parameters, refuses other content types", () => {
    expect(parseEnvelope(fixture, "application/json; charset=utf-8").ok).toBe(true);
    expect(parseEnvelope(fixture, undefined).ok).toBe(true);
    expect(parseEnvelope(fixture, "text/plain")).toMatchObject({ status: 415, reason: "content-type" });
  });

  it("refuses malformed and oversized envelopes whole", () => {
    expect(parseEnvelope(Buffer.from("{"), NOTIFICATION_MEDIA_TYPE)).toMatchObject({ status: 400 });
    expect(parseEnvelope(Buffer.from('{"events":{}}'), NOTIFICATION_MEDIA_TYPE)).toMatchObject({
      status: 400,
    });
    expect(
      parseEnvelope(
        Buffer.from('{"events":[{"action":"push","target":{"repository":"a/b"}},{"action":"push"}]}'),
        undefined,
      ),
    ).toMatchObject({ status: 400, message: "events[1].target.repository is missing" });
    expect(parseEnvelope(Buffer.from('{"events":[42]}'), undefined)).toMatchObject({ status: 400 });
    expect(parseEnvelope(fixture, NOTIFICATION_MEDIA_TYPE, 100)).toMatchObject({ status: 413 });
  });
});

describe("classifyEvent", () => {
  it("records a tagged manifest push to <namespace>/<stream>", () => {
    expect(classifyEvent(push("team/app"))).toEqual({
      namespace: "team",
      stream: "app",
      tag: "v1",
      digest: D1,
      mediaType: MANIFEST,
      isList: false,
      eventId: "e1",
    });
    for (const mediaType of [
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.oci.image.index.v1+json",
    ]) {
      const record = classifyEvent(push("team/app", { mediaType }));
      expect(record).toMatchObject({
        mediaType,
        isList: mediaType.includes("list") || mediaType.includes("index"),
      });
    }
  });

  it.each([
    [{ ...push("team/app"), action: "pull" }, "pull"],
    [
      {
        ...push("team/app"),
        action: "mount",
        target: { repository: "team/app", fromRepository: "team/base" },
      },
      "mount",
    ],
    [{ ...push("team/app"), action: "delete" }, "delete"],
    [{ ...push("team/app"), action: "resync" }, "unknown-action"],
    [push("team/app", { mediaType: "application/octet-stream", tag: undefined }), "blob"],
    [push("team/app", { mediaType: undefined }), "blob"],
    [push("app"), "not-a-stream-repository"],
    [push("team/group/app"), "not-a-stream-repository"],
    [push("Team/app"), "not-a-stream-repository"],
    [push("team/app", { tag: undefined }), "untagged-manifest"],
    [push("team/app", { tag: ".bad" }), "invalid-event"],
    [push("team/app", { digest: "sha256:short" }), "invalid-event"],
    [push("team/app", { digest: undefined }), "invalid-event"],
  ] as [RegistryEvent, string][])("ignores %j as %s", (event, reason) => {
    expect(classifyEvent(event)).toMatchObject({ reason });
  });

  it("classifies the documented envelope: one push record, a blob and a pull ignored", () => {
    const parsed = parseEnvelope(fixture, NOTIFICATION_MEDIA_TYPE);
    if (!parsed.ok) throw new Error(parsed.message);
    const { records, ignored } = classifyEvents(parsed.events);
    expect(records.map((r) => `${r.namespace}/${r.stream}:${r.tag}@${r.digest}`)).toEqual([
      "team/app:v1@sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf",
    ]);
    expect(ignored.map((i) => i.reason)).toEqual(["blob", "pull"]);
  });

  it("de-duplicates a batch per tag, keeping the last event", () => {
    const { records } = classifyEvents([
      push("team/app", {}, "a"),
      push("team/app", { tag: "v2" }, "b"),
      push("team/app", { digest: D2 }, "c"),
      push("team/app", {}, "d"),
    ]);
    expect(records.map((r) => [r.tag, r.digest, r.eventId])).toEqual([
      ["v2", D1, "b"],
      ["v1", D1, "d"],
    ]);
  });
});
