// The shell around the signing material: the Secret only the operator reads holds the keys,
// the ConfigMap the registry mounts as `rootcertbundle` holds the CA certificates. Every
// replica keeps a signer from the Secret and looks again periodically; whichever replica sees
// that something is due (first start, leaf renewal, CA rotation) writes it, guarded by
// resourceVersion, so two replicas never both win. A replica that loses re-reads the winner's.

import { CONFIGMAPS, type NamespacedKey, SECRETS } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import type { CertificateWithKey } from "../pki/index.ts";
import { backoffDelay, isConflict, isNotFound, KubeApiError, type ObjectApi } from "../runtime/index.ts";
import { createTokenSigner, type TokenSigner } from "./signer.ts";
import {
  nextSigningMaterial,
  readSigningMaterial,
  type SigningChange,
  type SigningMaterial,
  type SigningPolicy,
  signingMaterialData,
  TRUST_BUNDLE_KEY,
  trustBundle,
} from "./signing-keys.ts";

interface SecretObject {
  apiVersion: "v1";
  kind: "Secret";
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

interface ConfigMapObject {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

const LABELS = {
  "app.kubernetes.io/managed-by": "imagestream-operator",
  "app.kubernetes.io/component": "registry-token",
};

export interface SigningKeysOptions {
  objects: ObjectApi;
  /** The Secret holding the keys (only the operator may read it). */
  secret: NamespacedKey;
  /** The ConfigMap the registry mounts as its `auth.token.rootcertbundle`. */
  configMap: NamespacedKey;
  log: Logger;
  /** Whether the registry already trusts `ca` (asked during a CA rotation only). */
  registryTrusts?: (ca: CertificateWithKey) => Promise<boolean>;
  /** How often the Secret is read again (default 10 minutes). */
  refreshMs?: number;
  policy?: SigningPolicy;
  now?: () => Date;
}

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
const encode = (data: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));

export class TokenSigningKeys {
  readonly #options: SigningKeysOptions;
  readonly #now: () => Date;
  #material: SigningMaterial | undefined;
  #signer: TokenSigner | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #failures = 0;

  constructor(options: SigningKeysOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** The signer of the current leaf; undefined until the first sync succeeded. */
  get signer(): TokenSigner | undefined {
    return this.#signer;
  }

  /** The certificates the registry must trust now (what the ConfigMap holds after a sync). */
  get trustBundle(): string | undefined {
    return this.#material ? trustBundle(this.#material, this.#now()) : undefined;
  }

  /**
   * One round: read the Secret, write what is due (creating it the first time), publish the
   * bundle, and use the leaf. Throws when the API server cannot be reached.
   */
  async sync(): Promise<SigningChange[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const changes = await this.#round();
        await this.#publish();
        return changes;
      } catch (err) {
        // Another replica wrote first: use what it wrote.
        if (!isConflict(err) || attempt >= 3) throw err;
      }
    }
  }

  async #round(): Promise<SigningChange[]> {
    const { objects, secret: key, log } = this.#options;
    const now = this.#now();
    let existing: SecretObject | undefined;
    try {
      existing = await objects.get<SecretObject>(SECRETS, key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const read = existing ? readSigningMaterial(decode(existing.data)) : undefined;
    if (read && !read.ok) {
      log.warn(
        { secret: `${key.namespace}/${key.name}`, problem: read.problem },
        "token signing Secret unusable: replacing its keys",
      );
    }
    const current = read?.ok ? read.material : undefined;
    const trustsNext =
      current?.nextCa && this.#options.registryTrusts ? await this.#registryTrusts(current.nextCa) : false;
    const next = await nextSigningMaterial(current, {
      now,
      registryTrustsNext: trustsNext,
      ...(this.#options.policy ? { policy: this.#options.policy } : {}),
    });
    if (next.changes.length > 0 || (existing && !read?.ok)) {
      const body: SecretObject = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: key.name,
          namespace: key.namespace,
          labels: { ...existing?.metadata.labels, ...LABELS },
          ...(existing?.metadata.resourceVersion
            ? { resourceVersion: existing.metadata.resourceVersion }
            : {}),
        },
        type: "Opaque",
        data: encode(signingMaterialData(next.material)),
      };
      try {
        if (existing) await objects.replace(SECRETS, body);
        else await objects.create(SECRETS, body);
      } catch (err) {
        // A create that lost to another replica is a conflict too: read theirs.
        const status = KubeApiError.from(err)?.statusCode;
        if (status === 409) throw new KubeApiError(409, "the signing Secret changed meanwhile", "Conflict");
        throw err;
      }
      const level = next.changes.includes("PromotedUntrusted") ? "error" : "info";
      log[level](
        { secret: `${key.namespace}/${key.name}`, changes: next.changes },
        next.changes.includes("PromotedUntrusted")
          ? "token signing CA promoted before the registry loaded it: restart the registry to trust the new rootcertbundle"
          : "token signing keys updated",
      );
    }
    this.#use(next.material);
    return next.changes;
  }

  async #registryTrusts(ca: CertificateWithKey): Promise<boolean> {
    try {
      return (await this.#options.registryTrusts?.(ca)) === true;
    } catch (err) {
      this.#options.log.debug(
        { err: (err as Error).message },
        "could not ask the registry whether it trusts the next CA",
      );
      return false;
    }
  }

  async #publish(): Promise<void> {
    const { objects, configMap: key } = this.#options;
    const bundle = this.trustBundle;
    if (bundle === undefined) return;
    let existing: ConfigMapObject | undefined;
    try {
      existing = await objects.get<ConfigMapObject>(CONFIGMAPS, key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (existing?.data?.[TRUST_BUNDLE_KEY] === bundle) return;
    const body: ConfigMapObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: key.name,
        namespace: key.namespace,
        labels: { ...existing?.metadata.labels, ...LABELS },
        ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      data: { ...existing?.data, [TRUST_BUNDLE_KEY]: bundle },
    };
    if (existing) await objects.replace(CONFIGMAPS, body);
    else await objects.create(CONFIGMAPS, body);
    this.#options.log.info(
      { configMap: `${key.namespace}/${key.name}` },
      "registry token trust bundle published",
    );
  }

  #use(material: SigningMaterial): void {
    if (this.#material?.leaf.certificatePem === material.leaf.certificatePem) {
      this.#material = material;
      return;
    }
    this.#signer = createTokenSigner(material.leaf);
    this.#material = material;
  }

  /** Syncs now and then every refresh period; failures are retried with backoff, never thrown. */
  start(): Promise<void> {
    this.#stopped = false;
    const first = Promise.withResolvers<void>();
    const loop = async (): Promise<void> => {
      let delay: number;
      try {
        await this.sync();
        this.#failures = 0;
        delay = this.#options.refreshMs ?? 10 * 60_000;
      } catch (err) {
        this.#failures++;
        delay = backoffDelay(this.#failures - 1, { baseMs: 1000, maxMs: 60_000 });
        this.#options.log.warn(
          { err: (err as Error).message, retryInMs: delay },
          "could not read or write the registry token signing keys",
        );
      }
      first.resolve();
      if (!this.#stopped) this.#timer = setTimeout(() => void loop(), delay);
    };
    void loop();
    return first.promise;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
