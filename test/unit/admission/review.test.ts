import { describe, expect, it } from "vitest";
import {
  allow,
  bodySizeProblem,
  contentTypeProblem,
  deny,
  MAX_REVIEW_BYTES,
  MAX_WARNING_LENGTH,
  parseAdmissionReview,
  reviewResponse,
} from "../../../src/admission/index.ts";

function review(request: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request, ...top });
}

const REQUEST = {
  uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
  kind: { group: "apps", version: "v1", kind: "Deployment" },
  resource: { group: "apps", version: "v1", resource: "deployments" },
  requestKind: { group: "apps", version: "v1", kind: "Deployment" },
  name: "web",
  namespace: "team",
  operation: "CREATE",
  userInfo: {
    username: "alice",
    uid: "u-1",
    groups: ["dev", "system:authenticated"],
    extra: { scopes: ["a"] },
  },
  object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } },
  oldObject: null,
  dryRun: false,
  options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
};

function problem(body: string): { status: number; message: string } {
  const parsed = parseAdmissionReview(body);
  if (parsed.ok) throw new Error("expected a problem");
  return parsed.problem;
}

describe("parseAdmissionReview", () => {
  it("reads what the handlers need from a v1 AdmissionReview", () => {
    const parsed = parseAdmissionReview(review(REQUEST));
    expect(parsed).toEqual({
      ok: true,
      request: {
        uid: REQUEST.uid,
        kind: REQUEST.kind,
        resource: REQUEST.resource,
        subResource: "",
        name: "web",
        namespace: "team",
        operation: "CREATE",
        userInfo: REQUEST.userInfo,
        object: REQUEST.object,
        oldObject: null,
        dryRun: false,
      },
    });
  });

  it("defaults what kube-apiserver leaves out: core group, subresource, name, user details, dryRun", () => {
    const parsed = parseAdmissionReview(
      review({
        uid: "u",
        kind: { version: "v1", kind: "Pod" },
        resource: { group: "", version: "v1", resource: "pods" },
        subResource: "ephemeralcontainers",
        operation: "UPDATE",
        userInfo: { username: "bob" },
        object: {},
        oldObject: {},
        dryRun: true,
      }),
    );
    expect(parsed).toMatchObject({
      ok: true,
      request: {
        kind: { group: "", version: "v1", kind: "Pod" },
        subResource: "ephemeralcontainers",
        name: "",
        namespace: "",
        userInfo: { username: "bob", groups: [], extra: {} },
        dryRun: true,
      },
    });
  });

  it("answers 400 naming the problem for bodies that are not a v1 AdmissionReview", () => {
    expect(problem("{not json")).toMatchObject({
      status: 400,
      message: expect.stringContaining("request body is not JSON"),
    });
    expect(problem("[]").message).toBe("request body must be a JSON object (an AdmissionReview)");
    expect(problem(review(REQUEST, { apiVersion: "admission.k8s.io/v1beta1" })).message).toContain(
      'unsupported apiVersion "admission.k8s.io/v1beta1": this webhook speaks admission.k8s.io/v1',
    );
    expect(problem(JSON.stringify({ kind: "AdmissionReview", request: REQUEST })).message).toContain(
      "unsupported apiVersion null",
    );
    expect(problem(review(REQUEST, { kind: "ConversionReview" })).message).toBe(
      'unsupported kind "ConversionReview": expected AdmissionReview',
    );
    expect(
      problem(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" })).message,
    ).toBe("AdmissionReview has no request");
    const { uid: _uid, ...noUid } = REQUEST;
    expect(problem(review(noUid)).message).toBe("request.uid is missing: it must be echoed in the response");
    expect(problem(review({ ...REQUEST, uid: "" })).message).toContain("request.uid is missing");
    expect(problem(review({ ...REQUEST, operation: "PATCH" })).message).toBe(
      'request.operation "PATCH" is not CREATE, UPDATE, DELETE or CONNECT',
    );
    expect(problem(review({ ...REQUEST, kind: "Deployment" })).message).toBe(
      "request.kind must be an object with group, version and kind",
    );
    expect(problem(review({ ...REQUEST, resource: { group: "apps", version: "v1" } })).message).toBe(
      "request.resource.resource must be a string",
    );
    expect(
      problem(review({ ...REQUEST, kind: { group: "apps", version: "", kind: "Deployment" } })).message,
    ).toBe("request.kind.version and request.kind.kind must not be empty");
    expect(problem(review({ ...REQUEST, userInfo: { username: 7 } })).message).toBe(
      "request.userInfo.username must be a string",
    );
    expect(problem(review({ ...REQUEST, userInfo: { username: "a", groups: "dev" } })).message).toBe(
      "request.userInfo.groups must be a list of strings",
    );
    expect(problem(review({ ...REQUEST, userInfo: { username: "a", extra: { x: "y" } } })).message).toBe(
      'request.userInfo.extra["x"] must be a list of strings',
    );
    expect(problem(review({ ...REQUEST, namespace: 3 })).message).toBe("request.namespace must be a string");
    expect(problem(review({ ...REQUEST, dryRun: "true" })).message).toBe("request.dryRun must be a boolean");
    expect(problem(review({ ...REQUEST, object: null })).message).toBe(
      "request.object must be an object for CREATE",
    );
  });

  it("accepts a DELETE without an object", () => {
    expect(parseAdmissionReview(review({ ...REQUEST, operation: "DELETE", object: null })).ok).toBe(true);
  });
});

describe("HTTP-level problems", () => {
  it("415 for a body that is not JSON by its Content-Type", () => {
    expect(contentTypeProblem("application/json")).toBeUndefined();
    expect(contentTypeProblem("application/json; charset=utf-8")).toBeUndefined();
    expect(contentTypeProblem("text/plain")).toEqual({
      status: 415,
      message: 'unsupported Content-Type "text/plain": an AdmissionReview is sent as application/json',
    });
    expect(contentTypeProblem(undefined)?.status).toBe(415);
  });

  it("413 past the size limit", () => {
    expect(bodySizeProblem(MAX_REVIEW_BYTES)).toBeUndefined();
    expect(bodySizeProblem(MAX_REVIEW_BYTES + 1)?.status).toBe(413);
  });
});

describe("reviewResponse", () => {
  it("allows with a base64 JSONPatch, echoing the uid", () => {
    const patch = [{ op: "replace" as const, path: "/spec/x", value: "é" }];
    const response = reviewResponse("uid-1", allow(patch));
    expect(response).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: {
        uid: "uid-1",
        allowed: true,
        patchType: "JSONPatch",
        patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
      },
    });
    expect(JSON.parse(Buffer.from(response.response.patch ?? "", "base64").toString("utf8"))).toEqual(patch);
  });

  it("allows without patch fields when nothing changes", () => {
    expect(reviewResponse("u", allow()).response).toEqual({ uid: "u", allowed: true });
  });

  it("denies with an HTTP-like code, a reason clients branch on, and a message", () => {
    expect(reviewResponse("u", deny(403, "Forbidden", "no")).response).toEqual({
      uid: "u",
      allowed: false,
      status: { status: "Failure", code: 403, reason: "Forbidden", message: "no" },
    });
  });

  it("gives warnings one line each, deduplicated and bounded in length", () => {
    const long = "x".repeat(400);
    const response = reviewResponse("u", allow([], ["a\n  b", "a b", "", long]));
    expect(response.response.warnings?.[0]).toBe("a b");
    expect(response.response.warnings).toHaveLength(2);
    expect(response.response.warnings?.[1]).toHaveLength(MAX_WARNING_LENGTH);
    expect(reviewResponse("u", deny(422, "Invalid", "bad", ["w"])).response.warnings).toEqual(["w"]);
  });
});
