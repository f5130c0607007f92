// The pull secrets' informers: one per docker config Secret type (RBAC cannot narrow a watch
// by type, a field selector can). Requested by every controller that reads pull secrets, so
// they share one cache per type.
import { SECRETS } from "../api/index.ts";
import { DOCKER_CONFIG_SECRET_KEYS, type SecretLike } from "../registry/index.ts";
import type { InformerFactory, SharedInformer } from "../runtime/index.ts";

export function pullSecretInformers(informers: InformerFactory): SharedInformer<SecretLike>[] {
  return Object.keys(DOCKER_CONFIG_SECRET_KEYS).map((type) =>
    informers.for<SecretLike>(SECRETS, { fieldSelector: `type=${type}` }),
  );
}
