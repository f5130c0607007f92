// The token server core against a real CNCF distribution 2.8 registry (`auth.token`): a small
// HTTPS handler built from src/token-server answers the registry's realm, with a fixed
// allow/deny decision standing in for TokenReview and SubjectAccessReview. Pushes and pulls
// go through the harness client and skopeo; crafted tokens pin down what 2.8 verifies.

import { createPrivateKey, createPublicKey, randomUUID, X509Certificate } from "node:crypto";
import { SignJWT } from "jose";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateWithKey, createSigningCertificate } from "../../src/pki/index.ts";
import {
  type AccessCheck,
  composeClaims,
  createTokenSigner,
  type Identity,
  libtrustKeyId,
  type TokenClaims,
  type TokenServerSettings,
} from "../../src/token-server/index.ts";
import { launchConfiguredRegistry, pushImage, type RegistryConnection } from "../harness/index.ts";
import { run } from "../harness/process.ts";
import type { LaunchedRegistry } from "../harness/registry.ts";
import { clientTrust, startTokenRealm, type TokenRealm } from "./token-realm.ts";

const DAY = 86_400_000;
const settings: TokenServerSettings = {
  issuer: "imagestream-operator-test",
  service: "integrated-registry-test",
  lifetimeSeconds: 300,
  anonymousPull: false,
};

// Who may do what: the stand-in for TokenReview + SubjectAccessReview.
const identities: Record<string, Identity> = {
  "pusher-token": { username: "system:serviceaccount:team:pusher", groups: [] },
  "puller-token": { username: "system:serviceaccount:team:puller", groups: [] },
  "admin-token": { username: "admin", groups: ["system:masters"] },
};
function allowed(identity: Identity, check: AccessCheck): boolean {
  if (identity.username === "admin") return true;
  if (check.namespace !== "team") return false;
  if (identity.username.endsWith(":pusher")) return true;
  return identity.username.endsWith(":puller") && check.verb === "get";
}

describe("token server core with distribution 2.8 auth.token", () => {
  let realm: TokenRealm;
  let signing: CertificateWithKey;
  let registry: LaunchedRegistry;
  let trust: Awaited<ReturnType<typeof clientTrust>>;
  let trustDir: string;
  let trustPem: string;
  const existingStreams = new Set<string>();
  const issued: TokenClaims[] = [];
  const asked: AccessCheck[] = [];

  beforeAll(async () => {
    realm = await startTokenRealm({
      path: "/token",
      settings: () => settings,
      deps: {
        authenticate: async (token) => identities[token] ?? null,
        authorize: async (identity, check) => {
          asked.push(check);
          return allowed(identity, check);
        },
        streamExists: async (ns, name) => existingStreams.has(`${ns}/${name}`),
      },
      onSign: (claims) => issued.push(claims),
    });
    signing = realm.signing;
    registry = await launchConfiguredRegistry({
      configure: async (file) => ({
        auth: {
          token: {
            realm: realm.url,
            service: settings.service,
            issuer: settings.issuer,
            rootcertbundle: await file("token-signing.crt", signing.certificatePem),
          },
        },
      }),
    });
    trust = await clientTrust(registry, realm);
    trustDir = trust.dir;
    trustPem = trust.pem;
  });

  afterAll(async () => {
    await registry?.stop();
    await realm?.stop();
    await trust?.remove();
  });

  const as = (token: string): RegistryConnection => ({
    variant: "token",
    host: registry.host,
    url: registry.url,
    caPem: trustPem,
    username: "anything",
    password: token,
  });
  const skopeo = (token: string | undefined, ...args: string[]) =>
    run("skopeo", [
      args[0] ?? "",
      `--cert-dir=${trustDir}`,
      ...(token ? [`--creds=anything:${token}`] : ["--no-creds"]),
      ...args.slice(1),
    ]);

  it("a granted push (new stream: create imagestreams asked) and a granted pull succeed", async () => {
    const pushed = await pushImage(as("pusher-token"), "team/app", "v1");
    expect(
      issued.some((c) => c.access.some((a) => a.name === "team/app" && a.actions.includes("push"))),
    ).toBe(true);
    existingStreams.add("team/app");
    const inspected = await skopeo(
      "puller-token",
      "inspect",
      "--raw",
      `docker://${registry.host}/team/app:v1`,
    );
    expect(inspected.code).toBe(0);
    const digest = await skopeo(
      "puller-token",
      "inspect",
      "--format",
      "{{.Digest}}",
      `docker://${registry.host}/team/app:v1`,
    );
    expect(digest.stdout.trim()).toBe(pushed.digest);
  });

  it("the registry refuses a push whose scope was not granted", async () => {
    await expect(pushImage(as("puller-token"), "team/app", "v2")).rejects.toThrow(/401/);
    const last = issued.at(-1);
    expect(last?.sub).toBe("system:serviceaccount:team:puller");
    expect(last?.access.flatMap((a) => a.actions)).not.toContain("push");
  });

  it("the registry refuses a pull outside the granted namespace, anonymous pulls and bad tokens", async () => {
    await pushImage(as("admin-token"), "ops/app", "v1");
    const denied = await skopeo("puller-token", "inspect", "--raw", `docker://${registry.host}/ops/app:v1`);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/unauthorized|authentication required|401/i);
    const anonymous = await skopeo(undefined, "inspect", "--raw", `docker://${registry.host}/team/app:v1`);
    expect(anonymous.code).not.toBe(0);
    const bad = await skopeo("not-a-token", "inspect", "--raw", `docker://${registry.host}/team/app:v1`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/401|unauthorized|invalid/i);
  });

  it("repositories that are not <namespace>/<stream> get nothing, even for an admin", async () => {
    await expect(pushImage(as("admin-token"), "lonely", "v1")).rejects.toThrow(/401/);
    await expect(pushImage(as("admin-token"), "a/b/c", "v1")).rejects.toThrow(/401/);
  });

  describe("what distribution 2.8 verifies in a token", () => {
    const dispatcher = () => new Agent({ connect: { ca: trustPem } });
    async function getManifest(token: string): Promise<{ status: number; challenge: string }> {
      const agent = dispatcher();
      try {
        const res = await request(`${registry.url}/v2/team/app/manifests/v1`, {
          dispatcher: agent,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: "application/vnd.docker.distribution.manifest.v2+json",
          },
        });
        await res.body.dump();
        return { status: res.statusCode, challenge: String(res.headers["www-authenticate"] ?? "") };
      } finally {
        await agent.close();
      }
    }
    const pull = [{ type: "repository", name: "team/app", actions: ["pull"] }];
    const claims = (overrides: Partial<TokenClaims> = {}): TokenClaims => ({
      ...composeClaims(settings, "tester", pull, new Date(), randomUUID()),
      ...overrides,
    });
    const now = () => Math.floor(Date.now() / 1000);
    async function sign(
      payload: object,
      header: { kid?: string; x5c?: string[] },
      key: CertificateWithKey = signing,
    ): Promise<string> {
      return new SignJWT({ ...payload })
        .setProtectedHeader({ alg: "ES256", typ: "JWT", ...header })
        .sign(createPrivateKey(key.privateKeyPem));
    }
    const x5c = (cert: CertificateWithKey) => [
      new X509Certificate(cert.certificatePem).raw.toString("base64"),
    ];

    beforeAll(async () => {
      if (!existingStreams.has("team/app")) await pushImage(as("pusher-token"), "team/app", "v1");
    });

    it("accepts the signer's token (x5c and kid), a kid-only token and an x5c-only token", async () => {
      const signer = createTokenSigner(signing);
      expect((await getManifest(await signer.sign(claims()))).status).toBe(200);
      const kid = libtrustKeyId(createPublicKey(signing.privateKeyPem));
      expect((await getManifest(await sign(claims(), { kid }))).status).toBe(200);
      expect((await getManifest(await sign(claims(), { x5c: x5c(signing) }))).status).toBe(200);
    });

    it("refuses another issuer, another audience, and a kid or x5c not in rootcertbundle", async () => {
      expect(
        (await getManifest(await sign(claims({ iss: "someone-else" }), { x5c: x5c(signing) }))).status,
      ).toBe(401);
      expect(
        (await getManifest(await sign(claims({ aud: "other-service" }), { x5c: x5c(signing) }))).status,
      ).toBe(401);
      const stranger = await createSigningCertificate({ commonName: "stranger", lifetimeMs: DAY });
      const strangerKid = libtrustKeyId(createPublicKey(stranger.privateKeyPem));
      const byStranger = await sign(claims(), { x5c: x5c(stranger) }, stranger);
      const result = await getManifest(byStranger);
      expect(result.status).toBe(401);
      expect(result.challenge).toContain('error="invalid_token"');
      expect((await getManifest(await sign(claims(), { kid: strangerKid }, stranger))).status).toBe(401);
      // The trusted certificate with a signature made by another key.
      expect((await getManifest(await sign(claims(), { x5c: x5c(signing) }, stranger))).status).toBe(401);
      expect((await getManifest(await sign(claims(), {}))).status).toBe(401);
    });

    // 2.8 reads `aud` as a string only (3.x also takes an array): an array makes the token malformed.
    it("refuses aud as a JSON array, even one holding the service", async () => {
      const aud = claims() as unknown as Record<string, unknown>;
      aud.aud = [settings.service];
      expect((await getManifest(await sign(aud, { x5c: x5c(signing) }))).status).toBe(401);
    });

    it("checks exp and nbf with 60 seconds of leeway", async () => {
      const t = now();
      expect((await getManifest(await sign(claims({ exp: t - 30 }), { x5c: x5c(signing) }))).status).toBe(
        200,
      );
      expect((await getManifest(await sign(claims({ exp: t - 120 }), { x5c: x5c(signing) }))).status).toBe(
        401,
      );
      expect((await getManifest(await sign(claims({ nbf: t + 30 }), { x5c: x5c(signing) }))).status).toBe(
        200,
      );
      expect((await getManifest(await sign(claims({ nbf: t + 120 }), { x5c: x5c(signing) }))).status).toBe(
        401,
      );
    });

    it("requires the action in the access claim: a valid token without it gets insufficient_scope", async () => {
      const noPull = claims({ access: [{ type: "repository", name: "team/app", actions: ["push"] }] });
      const result = await getManifest(await sign(noPull, { x5c: x5c(signing) }));
      expect(result.status).toBe(401);
      expect(result.challenge).toContain('error="insufficient_scope"');
      expect(result.challenge).toContain('scope="repository:team/app:pull"');
      const otherRepo = claims({ access: [{ type: "repository", name: "team/other", actions: ["pull"] }] });
      expect((await getManifest(await sign(otherRepo, { x5c: x5c(signing) }))).status).toBe(401);
    });
  });
});
