// The host policy: one meaning of a host pattern, every spelling of an address reduced to
// the address, names checked on every address they resolve to.
import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import {
  createHostPolicy,
  DEFAULT_BLOCKED_HOSTS,
  hostMatches,
  parseHostPattern,
} from "../../../src/registry/index.ts";
import { embeddedIpv4, formatIp, parseCidr, parseIp } from "../../../src/registry/ip.ts";
import { checkedLookup, HostRefusedError, type Resolver } from "../../../src/registry/transport.ts";

const v4 = (text: string) => {
  const ip = parseIp(text);
  return ip?.family === 4 ? formatIp(ip) : undefined;
};

describe("IP spellings", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["127.0.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0177.1", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["169.254.169.254", "169.254.169.254"],
    ["2852039166", "169.254.169.254"],
    ["0xa9.0xfe.0xa9.0xfe", "169.254.169.254"],
  ])("IPv4 %s is %s", (text, address) => {
    expect(v4(text)).toBe(address);
  });

  it.each([
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0::1", "::1"],
    ["[::1]", "::1"],
    ["0000:0000::0001", "::1"],
    ["FD00:EC2::254", "fd00:ec2::254"],
    ["fd00:0ec2:0:0:0:0:0:0254", "fd00:ec2::254"],
    ["fe80::1%eth0", "fe80::1"],
  ])("IPv6 %s is %s", (text, address) => {
    const ip = parseIp(text);
    expect(ip?.family).toBe(6);
    expect(ip && formatIp(ip)).toBe(address);
  });

  it.each([
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["0:0:0:0:0:ffff:7f00:1", "127.0.0.1"],
    ["::127.0.0.1", "127.0.0.1"],
    ["::ffff:0:127.0.0.1", "127.0.0.1"],
    ["64:ff9b::a9fe:a9fe", "169.254.169.254"],
    ["2002:a9fe:a9fe::1", "169.254.169.254"],
  ])("IPv6 %s carries %s", (text, address) => {
    const ip = parseIp(text);
    expect(ip?.family).toBe(6);
    const embedded = ip?.family === 6 ? embeddedIpv4(ip.value) : undefined;
    expect(embedded === undefined ? undefined : formatIp({ family: 4, value: embedded })).toBe(address);
  });

  it("does not read names, or ::1 and :: as IPv4", () => {
    expect(parseIp("registry.example.com")).toBeUndefined();
    expect(parseIp("localhost")).toBeUndefined();
    expect(parseIp("1.2.3.4.5")).toBeUndefined();
    expect(parseIp("256.1.1.1")).toBeUndefined();
    expect(embeddedIpv4(1n)).toBeUndefined();
    expect(embeddedIpv4(0n)).toBeUndefined();
  });

  it("reads ranges, an IPv4-mapped range as the IPv4 range", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr("::ffff:169.254.0.0/112")).toMatchObject({ family: 4, prefix: 16 });
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
    expect(parseCidr("fe80::/129")).toBeUndefined();
  });
});

describe("host patterns: one meaning for every list", () => {
  const m = (pattern: string, host: string) => hostMatches(parseHostPattern(pattern), host);

  it("a host without port names it on every port; with a port only that port", () => {
    expect(m("reg.test", "reg.test")).toBe(true);
    expect(m("reg.test", "reg.test:5000")).toBe(true);
    expect(m("reg.test:5000", "reg.test:5000")).toBe(true);
    expect(m("reg.test:5000", "reg.test:5001")).toBe(false);
    expect(m("reg.test:5000", "reg.test")).toBe(false);
    expect(m("REG.test.", "reg.TEST")).toBe(true);
  });

  it("*.domain names exactly one label before the domain", () => {
    expect(m("*.corp.test", "a.corp.test")).toBe(true);
    expect(m("*.corp.test", "a.corp.test:5000")).toBe(true);
    expect(m("*.corp.test", "a.b.corp.test")).toBe(false);
    expect(m("*.corp.test", "corp.test")).toBe(false);
    expect(m("*.corp.test", "evilcorp.test")).toBe(false);
    expect(m("*.corp.test:443", "a.corp.test:5000")).toBe(false);
  });

  it("an address names every spelling of it; a range its edges and nothing beyond", () => {
    expect(m("127.0.0.1", "2130706433:5000")).toBe(true);
    expect(m("127.0.0.1", "[::ffff:127.0.0.1]:5000")).toBe(true);
    expect(m("10.0.0.0/8", "10.0.0.0")).toBe(true);
    expect(m("10.0.0.0/8", "10.255.255.255")).toBe(true);
    expect(m("10.0.0.0/8", "11.0.0.0")).toBe(false);
    expect(m("10.0.0.0/8", "9.255.255.255")).toBe(false);
    expect(m("169.254.169.254/32", "169.254.169.255")).toBe(false);
    expect(m("fe80::/10", "[febf:ffff::1]")).toBe(true);
    expect(m("fe80::/10", "[fec0::1]")).toBe(false);
    expect(m("[::1]:5000", "[0:0::1]:5000")).toBe(true);
    expect(m("127.0.0.1", "localhost")).toBe(false); // names are matched by their addresses, see below
  });

  it("rejects what is not a host pattern, naming it", () => {
    for (const bad of ["http://x", "x/y", "a b", "*.", "a.*.b", "10.0.0.0/40", "*", "reg.test:99999"]) {
      expect(() => parseHostPattern(bad), bad).toThrow(/is not a host/);
    }
    for (const good of [
      "reg.test",
      "reg.test:5000",
      "*.corp.test",
      "10.0.0.0/8",
      "fe80::/10",
      "[::1]:5000",
      "fd00:ec2::254",
    ]) {
      expect(() => parseHostPattern(good), good).not.toThrow();
    }
  });
});

describe("registry policy", () => {
  it("applies block before allow, ports and wildcards", () => {
    const open = createHostPolicy({ allow: [], block: [] });
    expect(open.refusedRegistry("reg.test:5000")).toBeUndefined();
    expect(createHostPolicy({ block: ["reg.test"] }).refusedRegistry("reg.test:5000")).toContain("blocked");
    const corp = createHostPolicy({ allow: ["*.corp.test"], block: [] });
    expect(corp.refusedRegistry("a.corp.test")).toBeUndefined();
    expect(corp.refusedRegistry("evil.test")).toContain("not in the operator's list");
    expect(
      createHostPolicy({ allow: ["a.corp.test"], block: ["a.corp.test"] }).refusedRegistry("a.corp.test"),
    ).toBe("registry host a.corp.test is blocked by the operator's registry policy");
  });

  it("blocks every spelling of a blocked address", () => {
    const policy = createHostPolicy({ block: ["127.0.0.1"] });
    for (const host of [
      "127.0.0.1:5000",
      "127.1:5000",
      "2130706433:5000",
      "0x7f000001:5000",
      "0177.0.0.1:5000",
      "[::ffff:127.0.0.1]:5000",
      "[::ffff:7f00:1]:5000",
      "[::127.0.0.1]:5000",
      "[0:0:0:0:0:ffff:7f00:1]:5000",
    ]) {
      expect(policy.refusedRegistry(host), host).toMatch(/is blocked by the operator's registry policy$/);
    }
    expect(policy.refusedRegistry("127.0.0.2:5000")).toBeUndefined();
    expect(policy.refusedRegistry("[::1]:5000")).toBeUndefined();
    // Names are not addresses: they are checked when they resolve (checkedLookup below).
    expect(policy.refusedRegistry("localhost:5000")).toBeUndefined();
  });

  it("names the address a spelling stands for", () => {
    expect(createHostPolicy({ block: ["127.0.0.1"] }).refusedRegistry("2130706433:5000")).toBe(
      "registry host 2130706433:5000 (127.0.0.1) is blocked by the operator's registry policy",
    );
  });

  it("never connects to the unspecified addresses, which reach the local machine", () => {
    const policy = createHostPolicy({ block: [] });
    expect(policy.refusedRegistry("0.0.0.0:5000")).toContain("blocked");
    expect(policy.refusedRegistry("0:5000")).toContain("blocked");
    expect(policy.refusedRegistry("[::]:5000")).toContain("blocked");
    expect(policy.refusedRegistry("[::ffff:0.0.0.0]:5000")).toContain("blocked");
  });

  it("by default blocks link-local and cloud metadata hosts, and keeps loopback reachable", () => {
    const policy = createHostPolicy();
    for (const host of [
      "169.254.169.254",
      "169.254.0.1",
      "[::ffff:169.254.169.254]",
      "[fe80::1]",
      "[fd00:ec2::254]",
      "100.100.100.200",
      "metadata.google.internal",
      "METADATA.google.internal.",
    ]) {
      expect(policy.refusedRegistry(host), host).toContain("blocked");
    }
    for (const host of ["127.0.0.1:5000", "[::1]:5000", "localhost:5000", "quay.io", "10.0.0.5:5000"]) {
      expect(policy.refusedRegistry(host), host).toBeUndefined();
    }
    expect(DEFAULT_BLOCKED_HOSTS).toContain("169.254.0.0/16");
  });

  it("checks a URL host with its scheme's default port", () => {
    const policy = createHostPolicy({ block: ["storage.test:443"] });
    expect(policy.refusedHost("storage.test", 443)).toContain("blocked");
    expect(policy.refusedHost("storage.test", 80)).toBeUndefined();
    expect(policy.refusedHost("storage.test:8443", 443)).toBeUndefined();
  });

  it("refuses a host the URL parser cannot read", () => {
    expect(createHostPolicy({ block: [] }).refusedRegistry("1.2.3.4.5")).toMatch(/not a valid host/);
  });
});

describe("names are checked on every address they resolve to", () => {
  const resolverOf =
    (answers: Record<string, string[]>): Resolver =>
    async (hostname) =>
      (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

  function lookup(block: string[], answers: Record<string, string[]>, hostname: string, all: boolean) {
    const fn = checkedLookup(createHostPolicy({ block }), 5000, resolverOf(answers));
    return new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) => {
      fn(hostname, { all }, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[]) =>
        resolve({ err, result: address }),
      );
    });
  }

  it("refuses a name with any blocked address, in every IP spelling the resolver gives", async () => {
    const answers = {
      localhost: ["::1", "127.0.0.1"],
      "mapped.test": ["::ffff:127.0.0.1"],
      "meta.test": ["93.184.216.34", "169.254.169.254"],
    };
    const a = await lookup(["127.0.0.1"], answers, "localhost", true);
    expect(a.err).toBeInstanceOf(HostRefusedError);
    expect(a.err?.message).toBe(
      "registry host localhost:5000 resolves to 127.0.0.1, which is blocked by the operator's registry policy",
    );
    expect((await lookup(["127.0.0.0/8"], answers, "mapped.test", false)).err).toBeInstanceOf(
      HostRefusedError,
    );
    expect((await lookup(DEFAULT_BLOCKED_HOSTS as string[], answers, "meta.test", true)).err).toBeInstanceOf(
      HostRefusedError,
    );
  });

  it("hands the checked addresses to the connection", async () => {
    const answers = { "reg.test": ["10.1.2.3", "fd12::3"] };
    const all = await lookup(["127.0.0.1"], answers, "reg.test", true);
    expect(all.err).toBeNull();
    expect(all.result).toEqual([
      { address: "10.1.2.3", family: 4 },
      { address: "fd12::3", family: 6 },
    ]);
    const one = await lookup(["127.0.0.1"], answers, "reg.test", false);
    expect(one.result).toBe("10.1.2.3");
  });

  it("applies port-specific address entries to the connection's port", async () => {
    const answers = { "reg.test": ["10.1.2.3"] };
    expect((await lookup(["10.1.2.3:5000"], answers, "reg.test", true)).err).toBeInstanceOf(HostRefusedError);
    expect((await lookup(["10.1.2.3:6000"], answers, "reg.test", true)).err).toBeNull();
  });

  it("fails a name without addresses as not found", async () => {
    expect((await lookup([], {}, "nowhere.test", true)).err?.code).toBe("ENOTFOUND");
  });
});
