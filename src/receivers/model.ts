// Receivers: webhook endpoints for external registries (docs/push.md). A receiver is a
// namespaced object naming a provider and a Secret; its URL path is derived from the
// Secret's token, so the path identifies it and, for providers without a signature,
// authenticates the sender.

import { createHash } from "node:crypto";
import type { ReceiverProviderName } from "../api/index.ts";

export type ReceiverProvider = ReceiverProviderName;

/** A receiver as the shell hands it to the core: its Secret's token already read. */
export interface Receiver {
  namespace: string;
  name: string;
  provider: ReceiverProvider;
  /** The token of the receiver's Secret (never logged). */
  token: string;
  /**
   * Registry host the provider's events stand for, as streams name it. Required where the
   * payload carries no host (GitLab pipelines); replaces the payload's host otherwise (a
   * self-hosted Harbor or Quay that reports an internal name, a mirror streams import from).
   */
  registry?: string;
  /** Namespaces whose streams the receiver may request imports in, already authorized. */
  namespaces: string[];
}

/**
 * What a verified event names, normalized like image references (`docker.io/library/x`).
 * `tag` undefined means every tag of the repository (GitLab pipelines name no tag);
 * `includeSubRepositories` extends that to `repository/...` (GitLab projects hold several images).
 */
export interface ImageEvent {
  registry: string;
  repository: string;
  tag?: string;
  includeSubRepositories?: boolean;
}

/** The path a user pastes into the provider, after the operator's receiver URL: `/hook/<hex>`. */
export function receiverPath(receiver: Pick<Receiver, "namespace" | "name" | "token">): string {
  const digest = createHash("sha256")
    .update(`${receiver.token}${receiver.name}${receiver.namespace}`)
    .digest("hex");
  return `/hook/${digest}`;
}
