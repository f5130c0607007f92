// Where the webhook server's certificate comes from, and who keeps kube-apiserver trusting it:
// - secretCertificates: the operator keeps its CA and serving certificate in a Secret (created
//   when missing), rotates them with the steps of certificates.ts, and publishes the CA bundle
//   through a BundlePublisher (the webhook configuration). Every replica runs it: the Secret is
//   written with its resourceVersion, so when several replicas rotate at once one write wins and
//   the others adopt it (optimistic concurrency, no leader needed: a standby serves at once).
// - directoryCertificates: tls.crt and tls.key in a directory (a cert-manager Secret mounted),
//   reloaded when they change; the bundle is cert-manager's CA injector's.
// Both tell the server about a new certificate, which it swaps in place.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type NamespacedKey, SECRETS } from "../api/index.ts";
import type { TlsCertificate } from "../http/index.ts";
import type { Logger } from "../log/index.ts";
import { mergeCaBundle } from "../pki/index.ts";
import { isConflict, isNotFound, type ObjectApi } from "../runtime/index.ts";
import {
  applyCertificateStep,
  bundleContains,
  type CertificateMaterial,
  type CertificatePolicy,
  type CertificateSecret,
  materialFromSecret,
  nextCertificateStep,
  secretWithMaterial,
} from "./certificates.ts";

export interface CertificateSource {
  /** Resolves after the first attempt to get a certificate, whether or not it succeeded (it retries). */
  start(): Promise<void>;
  stop(): Promise<void>;
  current(): TlsCertificate | undefined;
  /** Called with every new serving certificate. */
  onChange(listener: (tls: TlsCertificate) => void): void;
}

/** Makes kube-apiserver trust a CA bundle for the operator's webhooks. */
export interface BundlePublisher {
  /** The bundle (PEM) each webhook trusts now, by webhook name; empty when the configuration is missing. */
  published(): Promise<Map<string, string>>;
  /** Makes every webhook trust `bundle`; `published` is what published() returned. */
  publish(bundle: string, published: Map<string, string>): Promise<void>;
}

export interface SecretCertificatesOptions {
  objects: ObjectApi;
  secret: NamespacedKey;
  policy: CertificatePolicy;
  publisher: BundlePublisher;
  log: Logger;
  now?: () => number;
  /** Also look at the Secret this often (another replica may have rotated). Default 60 s. */
  recheckMs?: number;
}

/** A loop run by one timer: each tick says when the next one is; stop() waits for a tick in flight. */
function tickLoop(
  log: Logger,
  tick: () => Promise<number>,
): { start(): Promise<void>; stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    let delayMs = 5_000;
    try {
      delayMs = await tick();
    } catch (err) {
      log.error({ err }, "webhook certificate check failed; retrying");
    }
    if (stopped) return;
    timer = setTimeout(
      () => {
        running = run();
      },
      Math.max(1_000, delayMs),
    );
  };
  return {
    async start() {
      running = run();
      await running;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function sameTls(a: TlsCertificate | undefined, b: TlsCertificate | undefined): boolean {
  return a?.certificatePem === b?.certificatePem && a?.privateKeyPem === b?.privateKeyPem;
}

export function secretCertificates(options: SecretCertificatesOptions): CertificateSource {
  const { objects, secret: key, policy, publisher } = options;
  const log = options.log.child({ secret: `${key.namespace}/${key.name}` });
  const now = options.now ?? Date.now;
  const recheckMs = options.recheckMs ?? 60_000;
  const listeners: ((tls: TlsCertificate) => void)[] = [];
  let serving: TlsCertificate | undefined;

  const read = async (): Promise<CertificateSecret | undefined> => {
    try {
      return await objects.get<CertificateSecret>(SECRETS, key);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  const write = async (stored: CertificateSecret | undefined, material: CertificateMaterial) => {
    const body = secretWithMaterial(stored, key, material);
    if (stored) await objects.replace(SECRETS, body);
    else await objects.create(SECRETS, body);
  };

  const tick = async (): Promise<number> => {
    // A conflict means another replica wrote first: read its result and decide again.
    for (let attempt = 0; ; attempt++) {
      const stored = await read();
      let material = materialFromSecret(stored);
      const published = await publisher.published();
      // A Secret deleted by hand: the CAs kube-apiserver trusts now stay trusted (replicas may
      // still serve certificates they signed) until they expire.
      if (!stored && published.size > 0)
        material.bundle = mergeCaBundle([...published.values()], new Date(now()));
      const trusted = (pem: string) =>
        published.size > 0 && [...published.values()].every((bundle) => bundleContains(bundle, pem));
      const at = new Date(now());
      const steps: string[] = [];
      let step = nextCertificateStep(material, at, policy, trusted);
      while (step.step !== "none" && steps.length < 6) {
        steps.push(`${step.step}: ${step.reason}`);
        material = await applyCertificateStep(material, step, at, policy);
        step = nextCertificateStep(material, at, policy, trusted);
      }
      if (steps.length > 0) {
        try {
          await write(stored, material);
        } catch (err) {
          if (isConflict(err) && attempt < 3) {
            log.info("webhook certificates changed by another replica; reading them again");
            continue;
          }
          throw err;
        }
        log.info({ steps }, "webhook certificates updated");
      }
      const bundle = material.bundle ?? "";
      if (published.size === 0 || [...published.values()].some((b) => b !== bundle)) {
        await publisher.publish(bundle, published);
      }
      if (material.serving && !sameTls(serving, material.serving)) {
        serving = { ...material.serving };
        for (const listener of listeners) listener(serving);
      }
      const nextAt = step.step === "none" ? step.nextCheckAt.getTime() : now() + 5_000;
      return Math.min(recheckMs, nextAt - now());
    }
  };

  const loop = tickLoop(log, tick);
  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    current: () => serving,
    onChange: (listener) => listeners.push(listener),
  };
}

export interface DirectoryCertificatesOptions {
  dir: string;
  log: Logger;
  /** How often the files are read again (kubelet replaces a mounted Secret's files in place). Default 10 s. */
  pollMs?: number;
}

/** tls.crt and tls.key of a directory, read again every pollMs and announced when they change. */
export function directoryCertificates(options: DirectoryCertificatesOptions): CertificateSource {
  const log = options.log.child({ certificateDir: options.dir });
  const listeners: ((tls: TlsCertificate) => void)[] = [];
  let serving: TlsCertificate | undefined;
  let missingLogged = false;
  const loop = tickLoop(log, async () => {
    let tls: TlsCertificate;
    try {
      const [certificatePem, privateKeyPem] = await Promise.all([
        readFile(join(options.dir, "tls.crt"), "utf8"),
        readFile(join(options.dir, "tls.key"), "utf8"),
      ]);
      tls = { certificatePem, privateKeyPem };
    } catch (err) {
      // cert-manager may not have issued the certificate yet.
      if (!missingLogged)
        log.warn({ err: (err as Error).message }, "no serving certificate in the directory yet");
      missingLogged = true;
      return 2_000;
    }
    if (!tls.certificatePem.trim() || !tls.privateKeyPem.trim() || sameTls(serving, tls))
      return options.pollMs ?? 10_000;
    serving = tls;
    log.info("webhook serving certificate loaded");
    for (const listener of listeners) listener(tls);
    return options.pollMs ?? 10_000;
  });
  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    current: () => serving,
    onChange: (listener) => listeners.push(listener),
  };
}
