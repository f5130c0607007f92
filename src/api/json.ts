// Plain JSON values as the API server sends them: one narrowing helper and one equality rule
// for the whole code base.

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON with sorted keys and without null/undefined members: null and absent mean the same here. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = value[key];
      if (member === null || member === undefined) continue;
      out[key] = canonicalize(member);
    }
    return out;
  }
  return value;
}

/** Equal as JSON documents: key order and null-versus-absent members do not matter, array order does. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
