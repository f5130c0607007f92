// Registry scopes (distribution's spec/auth/scope.md): `type[(class)]:name:action[,action]`,
// several per `scope` parameter separated by spaces, several `scope` parameters per request.
// A name may contain ':' (a registry host with a port), so the type ends at the first ':'
// and the actions start after the last one.

export interface ResourceScope {
  /** `repository`, `registry`, ... */
  type: string;
  /** Resource class, e.g. `plugin` in `repository(plugin):...`; not part of the token claim. */
  class?: string;
  name: string;
  actions: string[];
}

export interface ParsedScopes {
  /** One entry per (type, name), actions merged in request order without repeats. */
  scopes: ResourceScope[];
  /** Scope strings that do not follow the grammar, for a debug line; never granted. */
  malformed: string[];
}

const TYPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const ACTION = /^(?:[a-z]+|\*)$/;
/** distribution's reference grammar caps names at 255 characters; a scope adds little. */
const MAX_SCOPE_LENGTH = 512;

function parseOne(text: string): ResourceScope | undefined {
  if (text.length > MAX_SCOPE_LENGTH) return undefined;
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const type = TYPE.exec(text.slice(0, first));
  const name = text.slice(first + 1, last);
  const actions = text.slice(last + 1).split(",");
  if (!type?.[1] || name === "" || /\s/.test(name) || !actions.every((a) => ACTION.test(a))) return undefined;
  const scope: ResourceScope = { type: type[1], name, actions };
  if (type[2]) scope.class = type[2];
  return scope;
}

/** Parses every `scope` query parameter of a token request. */
export function parseScopes(values: readonly string[]): ParsedScopes {
  const byResource = new Map<string, ResourceScope>();
  const malformed: string[] = [];
  for (const value of values) {
    for (const text of value.split(" ")) {
      if (text === "") continue;
      const scope = parseOne(text);
      if (!scope) {
        malformed.push(text);
        continue;
      }
      const key = `${scope.type} ${scope.name}`;
      const existing = byResource.get(key);
      if (existing) {
        for (const action of scope.actions)
          if (!existing.actions.includes(action)) existing.actions.push(action);
      } else {
        byResource.set(key, { ...scope, actions: [...new Set(scope.actions)] });
      }
    }
  }
  return { scopes: [...byResource.values()], malformed };
}

/** `type:name:actions`, the form of a WWW-Authenticate `scope` and of log lines. */
export function formatScope(scope: Pick<ResourceScope, "type" | "name" | "actions">): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(",")}`;
}
