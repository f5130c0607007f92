// The hooks listener (--hooks-address) every replica serves: the integrated registry's token
// realm and notification endpoint, and the receivers of external registries. Assembled here
// from the domains' routes; the push-related controllers the leader runs come with them.
import { randomUUID } from "node:crypto";
import {
  AuthorizationCache,
  subjectAccessReviewFromClient,
  tokenReviewFromClient,
  userAccessReviewFromClient,
} from "../access/index.ts";
import { IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import type { Config } from "../config/index.ts";
import { type Route, type RunningHttpServer, startHttpServer } from "../http/index.ts";
import { importSettingsFrom } from "../imports/index.ts";
import {
  createPushCatchUpController,
  type IntegratedRegistry,
  notificationRoute,
  PushRecorder,
} from "../push/index.ts";
import {
  createReceiverController,
  ReceiverDirectory,
  receiverInformers,
  receiverRoute,
  TagRequestWriter,
} from "../receivers/index.ts";
import {
  normalizeRegistryHost,
  type RegistryClient,
  type RegistryEndpoint,
  type TokenIssuer,
} from "../registry/index.ts";
import type { ControllerContext, ControllerHandle, ReplicaService } from "../runtime/index.ts";
import {
  registryTrustsCa,
  selfTokenIssuer,
  type TokenServerSettings,
  TokenSigningKeys,
  tokenRoute,
} from "../token-server/index.ts";

/**
 * The integrated registry: named by its pull location (--local-registry, what status and pods
 * say), read at --integrated-registry-url (plain HTTP when that URL is http).
 */
export function integratedRegistryOf(config: Config): (IntegratedRegistry & RegistryEndpoint) | undefined {
  if (!config.integratedRegistryUrl) return undefined;
  const url = new URL(config.integratedRegistryUrl);
  const name = normalizeRegistryHost(config.localRegistry ?? url.host);
  return { host: name, registry: name, endpoint: url.host, insecure: url.protocol === "http:" };
}

export function tokenServerSettings(config: Config): TokenServerSettings {
  return {
    issuer: config.registryTokenIssuer,
    service: config.registryTokenService,
    lifetimeSeconds: Math.round(config.registryTokenLifetimeMs / 1000),
    anonymousPull: config.registryAnonymousPull,
  };
}

/** The integrated registry's keys, built before the registry client so that it can sign its own tokens. */
export interface IntegratedRegistryParts {
  registry: IntegratedRegistry;
  keys: TokenSigningKeys;
  /** The operator's own pull tokens for the registry client. */
  issuer: TokenIssuer;
}

export function integratedRegistryParts(
  ctx: ControllerContext,
  createClient: (tokenIssuers: readonly TokenIssuer[]) => RegistryClient,
): IntegratedRegistryParts | undefined {
  const { config } = ctx;
  const registry = integratedRegistryOf(config);
  if (!registry || !config.registryTokenSigningSecret || !config.registryTokenCaConfigMap) return undefined;
  const settings = tokenServerSettings(config);
  const keys = new TokenSigningKeys({
    objects: ctx.objects,
    secret: config.registryTokenSigningSecret,
    configMap: config.registryTokenCaConfigMap,
    log: ctx.log.child({ component: "registry-token-keys" }),
    registryTrusts: (ca) =>
      registryTrustsCa(ca, { registry: registry.host, insecure: registry.insecure, settings, createClient }),
  });
  return {
    registry,
    keys,
    issuer: selfTokenIssuer({ registry: registry.host, settings, signer: () => keys.signer }),
  };
}

export interface Hooks {
  service: ReplicaService | undefined;
  controllers: ControllerHandle[];
}

/** The hooks service and the leader's controllers that go with it (catch-up, receiver status). */
export function buildHooks(
  ctx: ControllerContext,
  options: { integrated: IntegratedRegistryParts | undefined; registry: RegistryClient | undefined },
): Hooks {
  const { config, metrics } = ctx;
  if (config.hooksAddress === "0") return { service: undefined, controllers: [] };
  const log = ctx.log.child({ component: "hooks" });
  const streams = ctx.informers.for<ImageStream>(IMAGESTREAMS);
  const cachedStream = (namespace: string, name: string) => streams.get({ namespace, name });
  const routes: Route[] = [];
  const controllers: ControllerHandle[] = [];

  const { integrated, registry } = options;
  if (integrated && registry && config.registryNotificationsTokenFile) {
    const recorder = new PushRecorder({
      objects: ctx.objects,
      cachedStream,
      registry,
      integrated: integrated.registry,
      settings: importSettingsFrom(config),
      events: ctx.events,
    });
    routes.push(
      tokenRoute({
        settings: tokenServerSettings(config),
        signer: () => integrated.keys.signer,
        authenticate: tokenReviewFromClient(ctx.kc),
        authorize: userAccessReviewFromClient(ctx.kc),
        streamExists: (namespace, name) => cachedStream(namespace, name) !== undefined,
        log: log.child({ route: "registry-token" }),
        onOutcome: (outcome) => metrics.registryTokenRequest(outcome.result),
        newTokenId: randomUUID,
      }),
      notificationRoute({
        recorder,
        secretFile: config.registryNotificationsTokenFile,
        log: log.child({ route: "registry-notifications" }),
        onEvent: (result, reason) => metrics.registryPushEvent(result, reason),
      }),
    );
    controllers.push(
      createPushCatchUpController(ctx, {
        recorder,
        registry,
        integrated: integrated.registry,
        intervalMs: config.registryCatchUpIntervalMs,
      }),
    );
  }

  const { receivers, secrets } = receiverInformers(ctx);
  // May the service accounts of a receiver's namespace update imagestreams in another one?
  const access = new AuthorizationCache(subjectAccessReviewFromClient(ctx.kc, "update"));
  routes.push(
    receiverRoute({
      directory: new ReceiverDirectory(receivers, secrets),
      writer: new TagRequestWriter({ objects: ctx.objects, cachedStream }),
      streams: (namespace) => streams.list(namespace),
      namespaceAllowed: (receiver, namespace) => access.allowed(receiver.namespace, namespace),
      log: log.child({ route: "receivers" }),
      onResult: (provider, result) => metrics.receiverRequest(provider, result),
    }),
  );
  controllers.push(createReceiverController(ctx, { access }));

  let server: RunningHttpServer | undefined;
  const service: ReplicaService = {
    name: "registry-hooks",
    async start() {
      // The first read of the keys: on failure it is retried in the background (503 meanwhile).
      await integrated?.keys.start();
      server = await startHttpServer({
        name: "registry-hooks",
        address: config.hooksAddress,
        routes,
        log,
        onRequest: (event) => {
          metrics.httpRequest(event.server, event.route, event.status, event.seconds);
          // Every refusal is worth a debug line (oversized bodies never reach a route).
          if (event.status >= 400) log.debug(event, "hooks request refused");
        },
      });
    },
    async stop() {
      integrated?.keys.stop();
      await server?.close();
    },
  };
  return { service, controllers };
}
