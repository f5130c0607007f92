// Which registry hosts imports may reach. Users choose what to import, so without a policy the
// controller could be pointed at internal addresses (metadata services, cluster-internal hosts).

/** `host` matches `pattern`: exact (with port), host without port matching any port, or `*.domain`. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  const hostOnly = h.replace(/:\d+$/, "");
  if (!/:\d+$/.test(p) && p === hostOnly) return true;
  if (p.startsWith("*.")) return hostOnly.endsWith(p.slice(1));
  return false;
}

/**
 * Returns a message when the host is refused: the block list wins over the allow list, and an
 * empty allow list allows every host not blocked.
 */
export function refusedHost(
  host: string,
  allow: readonly string[],
  block: readonly string[],
): string | undefined {
  if (block.some((p) => hostMatches(p, host)))
    return `registry host ${host} is blocked by the operator's registry policy`;
  if (allow.length > 0 && !allow.some((p) => hostMatches(p, host))) {
    return `registry host ${host} is not in the operator's list of allowed registries`;
  }
  return undefined;
}
