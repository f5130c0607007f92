import { describe, expect, it } from "vitest";
import { namespaceCredentials, refusedHost } from "../../../src/imports/index.ts";

function pullSecret(name: string, host: string, annotations: Record<string, string> = {}) {
  const config = JSON.stringify({ auths: { [host]: { username: name, password: "p" } } });
  return {
    metadata: { name, namespace: "ns", annotations },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
  };
}

describe("refusedHost", () => {
  it("applies block before allow, ports and wildcards", () => {
    expect(refusedHost("reg.test:5000", [], [])).toBeUndefined();
    expect(refusedHost("reg.test:5000", [], ["reg.test"])).toContain("blocked");
    expect(refusedHost("a.corp.test", ["*.corp.test"], [])).toBeUndefined();
    expect(refusedHost("evil.test", ["*.corp.test"], [])).toContain("not in the operator's list");
  });
});

describe("namespaceCredentials", () => {
  it("uses the namespace's pull secrets except excluded ones and other namespaces'", () => {
    const lookup = namespaceCredentials("ns", [
      pullSecret("a", "reg.test"),
      pullSecret("b", "other.test", { "openshift.io/image.excludeSecret": "true" }),
    ]);
    expect(lookup("reg.test", "app")).toMatchObject({ username: "a" });
    expect(lookup("other.test", "app")).toBeUndefined();
    const elsewhere = { ...pullSecret("c", "third.test"), metadata: { name: "c", namespace: "other" } };
    expect(namespaceCredentials("ns", [elsewhere])("third.test", "app")).toBeUndefined();
  });

  it("skips a malformed secret and keeps the others", () => {
    const broken = {
      ...pullSecret("a", "reg.test"),
      data: { ".dockerconfigjson": Buffer.from("{").toString("base64") },
    };
    const lookup = namespaceCredentials("ns", [broken, pullSecret("b", "reg.test")]);
    expect(lookup("reg.test", "app")).toMatchObject({ username: "b" });
  });
});
