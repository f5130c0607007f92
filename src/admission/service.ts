// The admission webhooks as a component every replica runs (leader or not: admission never waits
// for an election): an HTTPS server on its own port whose routes are thin shells over the cores,
// reading ImageStreams from the shared caches; its certificate from the keeper (a Secret the
// operator keeps, or files cert-manager writes), swapped in place when it rotates.
import { performance } from "node:perf_hooks";
import { type UserAccessReview, userAccessReviewFromClient } from "../access/index.ts";
import { IMAGESTREAMS, type ImageStream } from "../api/index.ts";
import {
  type HttpReply,
  type HttpRequest,
  headerValue,
  type Route,
  type RunningHttpServer,
  startHttpServer,
  type TlsCertificate,
} from "../http/index.ts";
import { importSettingsFrom, pullSecretInformers } from "../imports/index.ts";
import type { Logger } from "../log/index.ts";
import type { AdmissionResultLabel } from "../metrics/index.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { ControllerContext, ReplicaService } from "../runtime/index.ts";
import type { CertificatePolicy } from "./certificates.ts";
import { imageStreamTagDecision } from "./imagestreamtags.ts";
import { answerImageStreamImport } from "./import-webhook.ts";
import { type CertificateSource, directoryCertificates, secretCertificates } from "./keeper.ts";
import { lookupDecision } from "./lookup.ts";
import { caBundleOnly, configurationByUrl } from "./publishers.ts";
import { type WebhookId, webhookById, webhookNamespaceSelector } from "./registration.ts";
import {
  type AdmissionDecision,
  type AdmissionRequest,
  contentTypeProblem,
  deny,
  MAX_REVIEW_BYTES,
  parseAdmissionReview,
  reviewResponse,
} from "./review.ts";

export interface AdmissionServiceOptions {
  /** The operator's one registry client (oc import-image). */
  registry: RegistryClient;
  /** Authorizes oc import-image as the requesting user (default: SubjectAccessReviews). */
  access?: UserAccessReview;
  /** Where the certificate comes from (default: from the settings). */
  certificates?: CertificateSource;
}

export interface AdmissionService extends ReplicaService {
  /** The server's base URL once it listens. */
  url(): string | undefined;
}

export type Decide = (
  request: AdmissionRequest,
  signal: AbortSignal,
  log: Logger,
) => Promise<AdmissionDecision>;

function resultOf(decision: AdmissionDecision): AdmissionResultLabel {
  if (decision.allowed) return decision.patch.length > 0 ? "patched" : "allowed";
  return decision.code >= 500 ? "error" : "denied";
}

/** An AdmissionReview route: body checks (415, 400), the decision, the review response, one log line and metrics. */
export function reviewRoute(
  id: WebhookId,
  ctx: Pick<ControllerContext, "log" | "metrics">,
  decide: Decide,
): Route {
  const log = ctx.log.child({ webhook: id });
  const observe = (operation: string, result: AdmissionResultLabel, started: number) =>
    ctx.metrics.admissionRequest(id, operation, result, (performance.now() - started) / 1000);
  return {
    name: `admission-${id}`,
    methods: ["POST"],
    path: webhookById(id).path,
    maxBodyBytes: MAX_REVIEW_BYTES,
    async handle(req: HttpRequest): Promise<HttpReply> {
      const started = performance.now();
      const typeProblem = contentTypeProblem(headerValue(req.headers, "content-type"));
      const parsed = typeProblem ? undefined : parseAdmissionReview(req.body.toString("utf8"));
      if (!parsed?.ok) {
        const problem = typeProblem ?? (parsed && !parsed.ok ? parsed.problem : undefined);
        const status = problem?.status ?? 400;
        log.warn({ status, problem: problem?.message }, "not an AdmissionReview");
        observe("", "rejected", started);
        return { status, body: `${problem?.message ?? "not an AdmissionReview"}\n` };
      }
      const { request } = parsed;
      const fields = {
        uid: request.uid,
        operation: request.operation,
        kind: request.kind.kind,
        namespace: request.namespace,
        name: request.name,
        ...(request.subResource ? { subResource: request.subResource } : {}),
        user: request.userInfo.username,
      };
      const requestLog = log.child(fields);
      let decision: AdmissionDecision;
      try {
        decision = await decide(request, req.signal, requestLog);
      } catch (err) {
        requestLog.error({ err }, "webhook failed");
        decision = deny(
          500,
          "InternalError",
          `the ${id} webhook failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const result = resultOf(decision);
      if (result === "allowed") requestLog.debug({ result }, "admission answered");
      else
        requestLog.info(
          decision.allowed
            ? { result, patch: decision.patch.length, warnings: decision.warnings }
            : { result, code: decision.code, reason: decision.reason, message: decision.message },
          "admission answered",
        );
      observe(request.operation, result, started);
      return { status: 200, body: reviewResponse(request.uid, decision) };
    },
  };
}

/** The serving certificate's names: the URL's host, or the Service's DNS names. */
function servingNames(config: ControllerContext["config"]): { dnsNames: string[]; ipAddresses: string[] } {
  if (config.admissionUrl) {
    const host = new URL(config.admissionUrl).hostname.replace(/^\[|\]$/g, "");
    return /^[\d.]+$|:/.test(host)
      ? { dnsNames: [], ipAddresses: [host] }
      : { dnsNames: [host], ipAddresses: [] };
  }
  const service = config.admissionService;
  if (!service) return { dnsNames: [], ipAddresses: [] };
  const base = `${service.name}.${service.namespace}.svc`;
  return { dnsNames: [base, `${base}.cluster.local`], ipAddresses: [] };
}

function certificatesFromSettings(ctx: ControllerContext): CertificateSource {
  const { config, log, objects } = ctx;
  if (config.admissionCertificateDir)
    return directoryCertificates({ dir: config.admissionCertificateDir, log });
  const secret = config.admissionCertificateSecret;
  if (!secret)
    throw new Error(
      "the admission webhooks need --admission-certificate-secret or --admission-certificate-dir",
    );
  const policy: CertificatePolicy = {
    caLifetimeMs: config.admissionCaLifetimeMs,
    servingLifetimeMs: config.admissionCertificateLifetimeMs,
    ...servingNames(config),
  };
  const name = config.admissionWebhookConfiguration;
  const publisher = config.admissionUrl
    ? configurationByUrl({
        objects,
        name,
        url: config.admissionUrl,
        // The operator's own namespace (its Secret's) and kube-system never wait for the operator.
        namespaceSelector: webhookNamespaceSelector([secret.namespace, "kube-system"], config.namespaces),
        log,
      })
    : caBundleOnly({ objects, name, log });
  return secretCertificates({
    objects,
    secret,
    policy,
    publisher,
    log,
    // Short test lifetimes need a closer look than once a minute.
    recheckMs: Math.min(60_000, Math.max(1_000, config.admissionCertificateLifetimeMs / 10)),
  });
}

export function createAdmissionService(
  ctx: ControllerContext,
  options: AdmissionServiceOptions,
): AdmissionService {
  const { config, log } = ctx;
  // Requested before the caches start: lookup reads streams, oc import-image reads pull secrets.
  const streams = ctx.informers.for<ImageStream>(IMAGESTREAMS);
  const secretInformers = pullSecretInformers(ctx.informers);
  const settings = importSettingsFrom(config);
  const access = options.access ?? userAccessReviewFromClient(ctx.kc);
  const lookupSettings = config.localRegistry ? { localRegistryHost: config.localRegistry } : {};

  const routes: Route[] = [
    reviewRoute("image-lookup", ctx, async (request) =>
      lookupDecision(request, (name) => streams.get({ namespace: request.namespace, name }), lookupSettings),
    ),
    reviewRoute("imagestreamtags", ctx, async (request) => imageStreamTagDecision(request)),
    reviewRoute("imagestreamimports", ctx, (request, signal, requestLog) =>
      answerImageStreamImport(
        request,
        {
          objects: ctx.objects,
          registry: options.registry,
          secrets: (namespace) => secretInformers.flatMap((informer) => informer.list(namespace)),
          access,
          settings,
          timeoutMs: config.admissionImportTimeoutMs,
          onOutcome: (outcome) =>
            outcome.ok
              ? ctx.metrics.importResult("success")
              : ctx.metrics.importResult("failure", outcome.reason),
        },
        signal,
        requestLog,
      ),
    ),
  ];

  let certificates: CertificateSource | undefined;
  let server: RunningHttpServer | undefined;
  let listenFailure: string | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;
  /** The first certificate is served by start() itself, so that a listen error reaches main (exit 2). */
  let afterStart = false;

  const listen = async (tls: TlsCertificate): Promise<void> => {
    server = await startHttpServer({
      name: "admission",
      address: config.admissionAddress,
      tls,
      routes,
      log,
      onRequest: (e) => ctx.metrics.httpRequest(e.server, e.route, e.status, e.seconds),
    });
  };

  return {
    name: "admission",
    async start() {
      certificates = options.certificates ?? certificatesFromSettings(ctx);
      const source = certificates;
      source.onChange((tls) => {
        if (server) {
          try {
            server.setCertificate(tls);
            log.info("webhook serving certificate replaced");
          } catch (err) {
            log.error({ err }, "the new webhook serving certificate cannot be served; keeping the old one");
          }
        } else if (afterStart && !starting && !stopped) {
          // The first certificate arrived after start(): listen now.
          starting = listen(tls).catch((err: unknown) => {
            listenFailure = err instanceof Error ? err.message : String(err);
            log.error({ err }, "the admission webhooks cannot listen");
          });
        }
      });
      await source.start();
      afterStart = true;
      const tls = source.current();
      if (tls && !server && !starting) {
        starting = listen(tls);
        await starting;
      } else if (!tls) {
        log.warn("no webhook serving certificate yet; the webhooks listen once there is one");
      }
    },
    async stop() {
      stopped = true;
      await starting?.catch(() => undefined);
      await server?.close();
      await certificates?.stop();
    },
    ready() {
      if (server) return true;
      return listenFailure ?? "no serving certificate yet";
    },
    url: () => server?.url,
  };
}
