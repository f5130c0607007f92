// Connection reuse for client-node's API clients.
import type { KubeConfig, RequestContext } from "@kubernetes/client-node";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/**
 * A KubeConfig whose API clients share one connection pool. client-node 2.0.1 builds a new
 * undici Agent, hence a new TLS connection and handshake, for every request; under a burst of
 * trigger writes that costs latency and hundreds of lingering sockets. The first Agent is
 * kept and reused (its TLS settings come from the kubeconfig, which does not change at run time).
 */
export function withSharedConnections(kc: KubeConfig): KubeConfig {
  const wrapped = Object.create(kc) as KubeConfig;
  let shared: Dispatcher | undefined;
  wrapped.applySecurityAuthentication = async (ctx: RequestContext): Promise<void> => {
    await kc.applySecurityAuthentication(ctx);
    const created = ctx.getDispatcher();
    if (created === undefined) return;
    if (shared === undefined) {
      shared = created;
    } else {
      ctx.setDispatcher(shared);
      void created.close().catch(() => {});
    }
  };
  return wrapped;
}
