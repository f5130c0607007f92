// Tag ordering of OpenShift's PrioritizeTags, used to choose which tags of a repository
// `spec.dockerImageRepository` imports, and for the TAGS summary.

interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
}

// Strict SemVer 2.0 (as github.com/blang/semver parses it): no leading zeros, optional pre-release and build.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const MINOR = /^\d+\.\d+$/;
const MINOR_WITH_SUFFIX = /^(\d+\.\d+)-\w+$/;

function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [] };
}

function compareIdentifiers(a: string, b: string): number {
  const aNum = /^\d+$/.test(a);
  const bNum = /^\d+$/.test(b);
  if (aNum && bNum) return Math.sign(Number(a) - Number(b));
  if (aNum) return -1;
  if (bNum) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSemVer(a: SemVer, b: SemVer): number {
  for (const key of ["major", "minor", "patch"] as const) {
    if (a[key] !== b[key]) return Math.sign(a[key] - b[key]);
  }
  // A release is newer than any of its pre-releases.
  if (a.pre.length === 0 || b.pre.length === 0) return Math.sign(b.pre.length - a.pre.length);
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const cmp = compareIdentifiers(a.pre[i]!, b.pre[i]!);
    if (cmp !== 0) return cmp;
  }
  return Math.sign(a.pre.length - b.pre.length);
}

const PRIORITY_LATEST = 0;
const PRIORITY_MINOR = 1; // "5.1", "v5.1", "5.1-rc1"
const PRIORITY_FULL = 2; // "5.1.3", "v5.1.3-beta"
const PRIORITY_OTHER = 3;

interface RankedTag {
  tag: string;
  priority: number;
  version?: SemVer;
  prefix: string;
}

function rankTag(tag: string): RankedTag {
  if (tag === "latest") return { tag, priority: PRIORITY_LATEST, prefix: "" };
  const prefix = tag.startsWith("v") ? "v" : "";
  const short = tag.slice(prefix.length);
  const full = parseSemVer(short);
  if (full) return { tag, priority: PRIORITY_FULL, version: full, prefix };
  if (MINOR.test(short)) {
    const version = parseSemVer(`${short}.0`);
    if (version) return { tag, priority: PRIORITY_MINOR, version, prefix };
  }
  const suffixed = MINOR_WITH_SUFFIX.exec(short);
  if (suffixed?.[1]) {
    const version = parseSemVer(short.replace(suffixed[1], `${suffixed[1]}.0`));
    if (version) return { tag, priority: PRIORITY_MINOR, version, prefix };
  }
  return { tag, priority: PRIORITY_OTHER, prefix };
}

function compareRanked(a: RankedTag, b: RankedTag): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.version && b.version) {
    const cmp = compareSemVer(b.version, a.version); // newest first
    if (cmp !== 0) return cmp;
    if (a.prefix !== b.prefix) return a.prefix < b.prefix ? -1 : 1;
  }
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
}

/**
 * Orders tags as OpenShift's PrioritizeTags: `latest`; then minor versions (`5.1`, `v5.1`,
 * `5.1-rc1`) newest first; then full semantic versions (`5.1.3`, `v5.1.3-beta`) newest first;
 * then everything else lexically. Unprefixed sorts before `v`-prefixed for equal versions.
 */
export function prioritizeTags(tags: readonly string[]): string[] {
  return tags
    .map(rankTag)
    .sort(compareRanked)
    .map((r) => r.tag);
}

/**
 * The tags of a repository that a `spec.dockerImageRepository` import takes: the first
 * `limit` in priority order (-1: all). Tags in `exclude` (spec tags, imported on their own)
 * are dropped after the limit is applied, as OpenShift counts them in the limit.
 */
export function selectRepositoryTags(
  tags: readonly string[],
  limit: number,
  exclude: ReadonlySet<string> = new Set(),
): string[] {
  const unique = [...new Set(tags)];
  const ordered = prioritizeTags(unique);
  const limited = limit < 0 ? ordered : ordered.slice(0, limit);
  return limited.filter((t) => !exclude.has(t));
}

/** How many tags the TAGS column names before ` + N more...` (oc's `numOfTagsShown`). */
const TAGS_SHOWN = 3;

/**
 * The TAGS printer column as `oc get is` prints it: status tags with an image, most recently
 * updated first (oc's SortStatusTags; ties by name), at most three, then ` + N more...`.
 */
export function summarizeTags(
  tags: readonly { tag: string; items?: readonly { created: string }[] | null }[],
): string {
  const withImage = tags.filter((t) => (t.items?.length ?? 0) > 0);
  const ordered = [...withImage].sort((a, b) => {
    const ca = a.items?.[0]?.created ?? "";
    const cb = b.items?.[0]?.created ?? "";
    if (ca !== cb) return ca < cb ? 1 : -1;
    return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
  });
  const shown = ordered.slice(0, TAGS_SHOWN).map((t) => t.tag);
  const hidden = ordered.length - shown.length;
  return hidden > 0 ? `${shown.join(",")} + ${hidden} more...` : shown.join(",");
}
