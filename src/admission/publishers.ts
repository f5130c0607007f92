// How the CA bundle reaches kube-apiserver: the caBundle of the operator's
// MutatingWebhookConfiguration, written with server-side apply as the operator's field manager.
// - configurationByUrl: the operator owns the whole configuration (kube-apiserver calls it through
//   a url: an operator outside the cluster, development, tests) and applies it with the bundle.
// - caBundleOnly: the chart owns the configuration; the operator owns only each webhook's caBundle
//   (Helm never sets it, so the two never fight over a field).
import { MUTATING_WEBHOOK_CONFIGURATIONS } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import { isNotFound, type ObjectApi } from "../runtime/index.ts";
import type { BundlePublisher } from "./keeper.ts";
import {
  caBundleApplyConfiguration,
  type LabelSelector,
  mutatingWebhookConfiguration,
  publishedCaBundles,
} from "./registration.ts";

async function stored(objects: ObjectApi, name: string): Promise<unknown> {
  try {
    return await objects.get(MUTATING_WEBHOOK_CONFIGURATIONS, { name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function configurationByUrl(options: {
  objects: ObjectApi;
  name: string;
  url: string;
  namespaceSelector: LabelSelector;
  log: Logger;
}): BundlePublisher {
  // Applied once at start even when the bundle matches: the rules may be a previous version's.
  let applied = false;
  return {
    published: async () => {
      const bundles = publishedCaBundles(await stored(options.objects, options.name));
      return applied ? bundles : new Map();
    },
    async publish(bundle) {
      const configuration = mutatingWebhookConfiguration({
        name: options.name,
        endpoint: { url: options.url },
        caBundle: bundle,
        namespaceSelector: options.namespaceSelector,
        labels: { "app.kubernetes.io/managed-by": "imagestream-operator" },
      });
      await options.objects.apply(
        MUTATING_WEBHOOK_CONFIGURATIONS,
        configuration as { metadata: { name: string } },
        {
          force: true,
        },
      );
      if (!applied)
        options.log.info({ configuration: options.name, url: options.url }, "webhooks registered");
      applied = true;
    },
  };
}

export function caBundleOnly(options: { objects: ObjectApi; name: string; log: Logger }): BundlePublisher {
  let missingLogged = false;
  return {
    published: async () => publishedCaBundles(await stored(options.objects, options.name)),
    async publish(bundle, published) {
      if (published.size === 0) {
        if (!missingLogged) {
          options.log.warn(
            { configuration: options.name },
            "MutatingWebhookConfiguration not found (the chart creates it); its caBundle is written once it exists",
          );
        }
        missingLogged = true;
        return;
      }
      missingLogged = false;
      await options.objects.apply(
        MUTATING_WEBHOOK_CONFIGURATIONS,
        caBundleApplyConfiguration(options.name, [...published.keys()], bundle) as {
          metadata: { name: string };
        },
        { force: true },
      );
      options.log.info({ configuration: options.name }, "webhook caBundle updated");
    },
  };
}
