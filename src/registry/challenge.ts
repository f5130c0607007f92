// `WWW-Authenticate` (RFC 7235) and `Link` (RFC 8288) header parsing. Both allow quoted
// strings containing commas, so they are tokenized rather than split.

export interface Challenge {
  /** Lower-case scheme: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

class Scanner {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? "";
  }
  skipSpace(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  skipSeparators(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === ",") this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done() && TOKEN_CHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** token68 (base64-ish) or token value, or a quoted string with backslash escapes. */
  value(): string {
    if (this.peek() !== '"') {
      const start = this.pos;
      while (!this.done() && !/[\s,;]/.test(this.peek())) this.pos++;
      return this.text.slice(start, this.pos);
    }
    this.pos++;
    let out = "";
    while (!this.done() && this.peek() !== '"') {
      if (this.peek() === "\\") this.pos++;
      out += this.peek();
      this.pos++;
    }
    this.pos++;
    return out;
  }
}

/** Parses one or more challenges, e.g. `Bearer realm="https://a/token",scope="x:y,z", Basic realm="r"`. */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseWwwAuthenticate(h));
  const s = new Scanner(header);
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  while (true) {
    s.skipSeparators();
    if (s.done()) break;
    const start = s.pos;
    const name = s.token();
    if (name === "") {
      s.pos++; // skip a stray character rather than loop forever
      continue;
    }
    s.skipSpace();
    if (s.peek() === "=" && current) {
      s.pos++;
      s.skipSpace();
      current.params[name.toLowerCase()] = s.value();
      continue;
    }
    // A token not followed by "=" starts a new challenge.
    s.pos = start + name.length;
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
  }
  return challenges;
}

/** The `rel="next"` target of a `Link` header, resolved against the request URL. */
export function parseNextLink(header: string | string[] | undefined, base: string): string | undefined {
  if (header === undefined) return undefined;
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    const s = new Scanner(value);
    while (true) {
      s.skipSeparators();
      if (s.done() || s.peek() !== "<") break;
      const end = value.indexOf(">", s.pos);
      if (end < 0) break;
      const target = value.slice(s.pos + 1, end);
      s.pos = end + 1;
      let rel: string | undefined;
      while (true) {
        s.skipSpace();
        if (s.peek() !== ";") break;
        s.pos++;
        s.skipSpace();
        const key = s.token().toLowerCase();
        s.skipSpace();
        if (s.peek() === "=") {
          s.pos++;
          s.skipSpace();
          const v = s.value();
          if (key === "rel") rel = v;
        }
      }
      if (rel?.split(/\s+/).includes("next")) {
        try {
          return new URL(target, base).toString();
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
