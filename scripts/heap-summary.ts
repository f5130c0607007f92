// Where a V8 heap snapshot's memory goes, without DevTools: a streaming reader of the
// .heapsnapshot format (files larger than V8's longest string), a dominator tree, and:
// - self size by node type, and retained size by constructor (instances not held by another
//   instance of the same constructor, as DevTools' Summary counts them);
// - every Informer's cache (this operator's src/runtime/informer.ts): objects held, retained
//   bytes and bytes per object, labelled by the informer name its logger carries;
// - strings held many times (same content in several string objects) and the largest strings.
//
//   node --max-old-space-size=8192 scripts/heap-summary.ts FILE.heapsnapshot [--top N]

import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { mib } from "./bench-lib.ts";

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

interface Snapshot {
  meta: Meta;
  nodeCount: number;
  edgeCount: number;
  nodes: Uint32Array;
  edges: Uint32Array;
  strings: string[];
}

// ---------------------------------------------------------------- reading

/** Streams the file: the header as JSON, `nodes` and `edges` into typed arrays, `strings` one by one. */
async function readSnapshot(file: string): Promise<Snapshot> {
  let meta: Meta | undefined;
  let nodeCount = 0;
  let edgeCount = 0;
  let nodes = new Uint32Array(0);
  let edges = new Uint32Array(0);
  const strings: string[] = [];
  type Section = "header" | "seek" | "nodes" | "edges" | "skip" | "strings" | "done";
  let section: Section = "header";
  let target: Uint32Array = nodes;
  let filled = 0;
  let number = -1;
  let pending = ""; // text between sections, to find the next key
  let inString = false;
  let escaped = false;
  let stringParts: Buffer[] = [];
  let stringStart = 0;

  const startSection = (name: string): void => {
    if (name === "nodes") {
      section = "nodes";
      target = nodes;
    } else if (name === "edges") {
      section = "edges";
      target = edges;
    } else if (name === "strings") section = "strings";
    else section = "skip";
    filled = 0;
    number = -1;
  };

  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) {
    let buf = chunk as Buffer;
    let i = 0;
    while (i < buf.length) {
      if (section !== "header" && section !== "seek" && section !== "skip") {
        i = consume(buf, i);
        continue;
      }
      // Between arrays: find the next `"name":[` (the header is the text before "nodes").
      pending += buf.toString("latin1", i);
      i = buf.length;
      if ((section as Section) === "skip") {
        const end = pending.indexOf("]");
        if (end < 0) {
          pending = pending.slice(-64);
          continue;
        }
        pending = pending.slice(end + 1);
        section = "seek";
      }
      // The header's meta has arrays too: it ends at "nodes".
      const m = (section === "header" ? /"(nodes)":\[/ : /"(\w+)":\[/).exec(pending);
      if (!m) {
        if (section === "seek") pending = pending.slice(-64);
        continue;
      }
      if (section === "header") {
        const parsed = JSON.parse(`${pending.slice(0, m.index).replace(/,\s*$/, "")}}`) as {
          snapshot: { meta: Meta; node_count: number; edge_count: number };
        };
        meta = parsed.snapshot.meta;
        nodeCount = parsed.snapshot.node_count;
        edgeCount = parsed.snapshot.edge_count;
        nodes = new Uint32Array(nodeCount * meta.node_fields.length);
        edges = new Uint32Array(edgeCount * meta.edge_fields.length);
      }
      // latin1 keeps one char per byte: the rest goes on as bytes.
      buf = Buffer.from(pending.slice(m.index + m[0].length), "latin1");
      i = 0;
      pending = "";
      startSection(m[1] ?? "");
    }
  }
  if (!meta) throw new Error(`${file}: not a heap snapshot`);
  return { meta, nodeCount, edgeCount, nodes, edges, strings };

  /** Reads numbers or strings of the current array from `buf` at `at`; returns where it stopped. */
  function consume(buf: Buffer, at: number): number {
    let i = at;
    if (section === "nodes" || section === "edges") {
      for (; i < buf.length; i++) {
        const c = buf[i] as number;
        if (c >= 48 && c <= 57) {
          number = number < 0 ? c - 48 : number * 10 + (c - 48);
        } else {
          if (number >= 0) {
            target[filled++] = number;
            number = -1;
          }
          if (c === 93) {
            // "]": the section ends; look for the next key.
            section = "seek";
            pending = "";
            return i + 1;
          }
        }
      }
      return i;
    }
    if (section === "strings") {
      for (; i < buf.length; i++) {
        const c = buf[i] as number;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) {
            stringParts.push(buf.subarray(stringStart, i));
            strings.push(JSON.parse(`"${Buffer.concat(stringParts).toString("utf8")}"`) as string);
            stringParts = [];
            inString = false;
          }
        } else if (c === 34) {
          inString = true;
          stringStart = i + 1;
        } else if (c === 93) {
          section = "done";
          return buf.length;
        }
      }
      if (inString) {
        stringParts.push(Buffer.from(buf.subarray(stringStart)));
        stringStart = 0;
      }
      return i;
    }
    return buf.length;
  }
}

// ---------------------------------------------------------------- the graph

function bump(array: { [index: number]: number }, index: number, by = 1): void {
  array[index] = (array[index] ?? 0) + by;
}

function analyse(snap: Snapshot, top: number): void {
  const { meta, nodeCount, nodes, edges, strings } = snap;
  const NF = meta.node_fields.length;
  const EF = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf("type");
  const nName = meta.node_fields.indexOf("name");
  const nSelf = meta.node_fields.indexOf("self_size");
  const nEdges = meta.node_fields.indexOf("edge_count");
  const eType = meta.edge_fields.indexOf("type");
  const eName = meta.edge_fields.indexOf("name_or_index");
  const eTo = meta.edge_fields.indexOf("to_node");
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const WEAK = edgeTypes.indexOf("weak");
  const SHORTCUT = edgeTypes.indexOf("shortcut");
  const ELEMENT = edgeTypes.indexOf("element");
  const HIDDEN = edgeTypes.indexOf("hidden");
  const T_STRING = nodeTypes.indexOf("string");
  const T_CONS = nodeTypes.indexOf("concatenated string");
  const T_SLICED = nodeTypes.indexOf("sliced string");
  const T_OBJECT = nodeTypes.indexOf("object");
  const T_CLOSURE = nodeTypes.indexOf("closure");
  const T_NATIVE = nodeTypes.indexOf("native");

  const type = (n: number): number => nodes[n * NF + nType] as number;
  const name = (n: number): string => strings[nodes[n * NF + nName] as number] ?? "";
  const self = (n: number): number => nodes[n * NF + nSelf] as number;
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let n = 0; n < nodeCount; n++)
    firstEdge[n + 1] = (firstEdge[n] as number) + (nodes[n * NF + nEdges] as number);
  const edgeTo = (e: number): number => (edges[e * EF + eTo] as number) / NF;
  const edgeName = (e: number): string => {
    const t = edges[e * EF + eType] as number;
    const v = edges[e * EF + eName] as number;
    return t === ELEMENT || t === HIDDEN ? String(v) : (strings[v] ?? "");
  };
  const followed = (e: number): boolean => {
    const t = edges[e * EF + eType] as number;
    return t !== WEAK && t !== SHORTCUT;
  };

  // Post-order DFS from the root (node 0).
  const postIndex = new Int32Array(nodeCount).fill(-1);
  const postOrder = new Uint32Array(nodeCount);
  const visited = new Uint8Array(nodeCount);
  const stack = new Uint32Array(nodeCount);
  const cursor = new Uint32Array(nodeCount);
  let reachable = 0;
  let depth = 0;
  stack[0] = 0;
  cursor[0] = firstEdge[0] as number;
  visited[0] = 1;
  depth = 1;
  while (depth > 0) {
    const n = stack[depth - 1] as number;
    const end = firstEdge[n + 1] as number;
    let e = cursor[depth - 1] as number;
    while (e < end && (!followed(e) || visited[edgeTo(e)])) e++;
    if (e < end) {
      cursor[depth - 1] = e + 1;
      const child = edgeTo(e);
      visited[child] = 1;
      stack[depth] = child;
      cursor[depth] = firstEdge[child] as number;
      depth++;
    } else {
      postIndex[n] = reachable;
      postOrder[reachable++] = n;
      depth--;
    }
  }

  // Predecessors of reachable nodes (CSR).
  const predCount = new Uint32Array(nodeCount + 1);
  for (let n = 0; n < nodeCount; n++) {
    if ((postIndex[n] as number) < 0) continue;
    for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e++) {
      if (followed(e)) bump(predCount, edgeTo(e) + 1);
    }
  }
  for (let n = 0; n < nodeCount; n++) bump(predCount, n + 1, predCount[n] as number);
  const preds = new Uint32Array(predCount[nodeCount] as number);
  const fill = predCount.slice(0, nodeCount);
  for (let n = 0; n < nodeCount; n++) {
    if ((postIndex[n] as number) < 0) continue;
    for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e++) {
      if (!followed(e)) continue;
      const to = edgeTo(e);
      preds[fill[to] as number] = n;
      bump(fill, to);
    }
  }

  // Dominators (Cooper, Harvey, Kennedy), on post-order numbers.
  const UNDEF = 0xffffffff;
  const idom = new Uint32Array(reachable).fill(UNDEF); // by post index
  const rootPost = postIndex[0] as number;
  idom[rootPost] = rootPost;
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = reachable - 2; k >= 0; k--) {
      const n = postOrder[k] as number;
      let best = UNDEF;
      for (let p = predCount[n] as number; p < (predCount[n + 1] as number); p++) {
        const pp = postIndex[preds[p] as number] as number;
        if (pp < 0 || idom[pp] === UNDEF) continue;
        if (best === UNDEF) best = pp;
        else {
          let a = pp;
          let b = best;
          while (a !== b) {
            while (a < b) a = idom[a] as number;
            while (b < a) b = idom[b] as number;
          }
          best = a;
        }
      }
      if (best !== UNDEF && idom[k] !== best) {
        idom[k] = best;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(reachable);
  for (let k = 0; k < reachable; k++) retained[k] = self(postOrder[k] as number);
  for (let k = 0; k < reachable; k++) {
    if (k !== rootPost && idom[k] !== UNDEF) bump(retained, idom[k] as number, retained[k] as number);
  }
  const retainedOf = (n: number): number =>
    (postIndex[n] as number) >= 0 ? (retained[postIndex[n] as number] as number) : 0;

  let totalSelf = 0;
  const byType = new Map<string, { count: number; bytes: number }>();
  for (let n = 0; n < nodeCount; n++) {
    if ((postIndex[n] as number) < 0) continue;
    totalSelf += self(n);
    const t = nodeTypes[type(n)] ?? "?";
    const entry = byType.get(t) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += self(n);
    byType.set(t, entry);
  }
  console.log(`${reachable} reachable nodes of ${nodeCount}, ${mib(totalSelf)} (sum of self sizes)`);
  console.log("\nself size by node type");
  for (const [t, { count, bytes }] of [...byType].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(`  ${t.padEnd(20)} ${mib(bytes).padStart(11)}  ${count} nodes`);
  }

  // Retained size by constructor: instances with no instance of the same constructor above them.
  const classOf = (n: number): string => {
    const t = type(n);
    if (t === T_OBJECT || t === T_CLOSURE || t === T_NATIVE) return name(n);
    if (t === T_STRING || t === T_CONS || t === T_SLICED) return "(string)";
    return `(${nodeTypes[t]})`;
  };
  const domChildren = new Uint32Array(reachable + 1);
  for (let k = 0; k < reachable; k++) if (k !== rootPost) bump(domChildren, (idom[k] as number) + 1);
  for (let k = 0; k < reachable; k++) bump(domChildren, k + 1, domChildren[k] as number);
  const childList = new Uint32Array(reachable);
  const childFill = domChildren.slice(0, reachable);
  for (let k = 0; k < reachable; k++) {
    if (k === rootPost) continue;
    const parent = idom[k] as number;
    childList[childFill[parent] as number] = k;
    bump(childFill, parent);
  }
  const classIds = new Map<string, number>();
  const classIdOf = new Uint32Array(reachable);
  for (let k = 0; k < reachable; k++) {
    const c = classOf(postOrder[k] as number);
    let id = classIds.get(c);
    if (id === undefined) {
      id = classIds.size;
      classIds.set(c, id);
    }
    classIdOf[k] = id;
  }
  const onPath = new Uint32Array(classIds.size);
  const classRetained = new Float64Array(classIds.size);
  const classCount = new Uint32Array(classIds.size);
  const classSelf = new Float64Array(classIds.size);
  const dstack: number[] = [rootPost];
  const leaving: boolean[] = [false];
  while (dstack.length > 0) {
    const k = dstack.pop() as number;
    const leave = leaving.pop() as boolean;
    const id = classIdOf[k] as number;
    if (leave) {
      bump(onPath, id, -1);
      continue;
    }
    bump(classCount, id);
    bump(classSelf, id, self(postOrder[k] as number));
    if (onPath[id] === 0) bump(classRetained, id, retained[k] as number);
    bump(onPath, id);
    dstack.push(k);
    leaving.push(true);
    for (let c = domChildren[k] as number; c < (domChildren[k + 1] as number); c++) {
      dstack.push(childList[c] as number);
      leaving.push(false);
    }
  }
  const classNames = [...classIds.keys()];
  console.log(`\nretained size by constructor (top ${top})`);
  console.log(`  ${"constructor".padEnd(44)} ${"retained".padStart(11)} ${"self".padStart(11)}  count`);
  for (const id of [...classIds.values()]
    .sort((a, b) => (classRetained[b] as number) - (classRetained[a] as number))
    .slice(0, top)) {
    console.log(
      `  ${(classNames[id] ?? "").slice(0, 44).padEnd(44)} ${mib(classRetained[id] as number).padStart(11)} ${mib(classSelf[id] as number).padStart(11)}  ${classCount[id]}`,
    );
  }

  // Informer caches: Informer instances, their #cache Map and the name their logger carries.
  const property = (n: number, key: string): number | undefined => {
    for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e++) {
      if (edgeName(e) === key) return edgeTo(e);
    }
    return undefined;
  };
  /** The content of a string node; a concatenated string's is its parts'. */
  const stringValue = (n: number, budget = 64): string => {
    if (type(n) !== T_CONS || budget <= 0) return name(n);
    const first = property(n, "first");
    const second = property(n, "second");
    return (
      (first === undefined ? "" : stringValue(first, budget - 1)) +
      (second === undefined ? "" : stringValue(second, budget - 1))
    );
  };
  const findString = (from: number, pattern: RegExp, maxDepth: number): string | undefined => {
    let frontier = [from];
    const seen = new Set<number>([from]);
    for (let d = 0; d < maxDepth; d++) {
      const nextFrontier: number[] = [];
      for (const n of frontier) {
        for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e++) {
          const to = edgeTo(e);
          if (seen.has(to)) continue;
          seen.add(to);
          const t = type(to);
          if (t === T_STRING || t === T_CONS || t === T_SLICED) {
            const m = pattern.exec(stringValue(to));
            if (m) return m[1];
          } else nextFrontier.push(to);
        }
      }
      frontier = nextFrontier;
    }
    return undefined;
  };
  console.log("\ninformer caches (Informer #cache Maps)");
  let cacheTotal = 0;
  for (let n = 0; n < nodeCount; n++) {
    if (type(n) !== T_OBJECT || name(n) !== "Informer" || (postIndex[n] as number) < 0) continue;
    const cache = property(n, "#cache");
    if (cache === undefined) continue;
    const table = property(cache, "table");
    // An OrderedHashMap keeps key, value and chain per entry after a small header.
    let entries = 0;
    if (table !== undefined) {
      for (let e = firstEdge[table] as number; e < (firstEdge[table + 1] as number); e++) {
        if (type(edgeTo(e)) === T_OBJECT) entries++;
      }
    }
    const label = findString(n, /"informer":"([^"]+)"/, 4) ?? "(unnamed)";
    const bytes = retainedOf(cache);
    cacheTotal += bytes;
    console.log(
      `  ${label.padEnd(48)} ${mib(bytes).padStart(11)}  ${entries} objects${entries > 0 ? `, ${Math.round(bytes / entries)} bytes each` : ""}`,
    );
    if (table !== undefined && entries > 0) {
      // Bytes per object by field, counting what the object alone holds (two levels deep).
      const fields = new Map<string, number>();
      const owned = (parent: number, child: number): boolean =>
        (postIndex[child] as number) >= 0 && idom[postIndex[child] as number] === postIndex[parent];
      for (let e = firstEdge[table] as number; e < (firstEdge[table + 1] as number); e++) {
        const obj = edgeTo(e);
        if (type(obj) !== T_OBJECT) continue;
        for (let f = firstEdge[obj] as number; f < (firstEdge[obj + 1] as number); f++) {
          const child = edgeTo(f);
          const key = edgeName(f);
          if (key === "map" || key === "__proto__" || !owned(obj, child)) continue;
          const nested = type(child) === T_OBJECT && ["metadata", "spec", "status", "image"].includes(key);
          let inner = 0;
          if (nested) {
            for (let g = firstEdge[child] as number; g < (firstEdge[child + 1] as number); g++) {
              const grand = edgeTo(g);
              const sub = edgeName(g);
              if (sub === "map" || sub === "__proto__" || !owned(child, grand)) continue;
              fields.set(`${key}.${sub}`, (fields.get(`${key}.${sub}`) ?? 0) + retainedOf(grand));
              inner += retainedOf(grand);
            }
          }
          fields.set(
            nested ? `${key} (rest)` : key,
            (fields.get(nested ? `${key} (rest)` : key) ?? 0) + retainedOf(child) - inner,
          );
        }
      }
      let own = 0;
      for (let e = firstEdge[table] as number; e < (firstEdge[table + 1] as number); e++) {
        if (type(edgeTo(e)) === T_OBJECT) own += retainedOf(edgeTo(e));
      }
      console.log(
        `      each object's own retained size, summed: ${mib(own)} (${Math.round(own / entries)} bytes each; more than the Map's when other structures share the objects)`,
      );
      const parts = [...fields]
        .filter(([, b]) => b / entries >= 16)
        .sort((a, b) => b[1] - a[1])
        .map(([field, b]) => `${field} ${Math.round(b / entries)}`)
        .join(", ");
      console.log(`      bytes per object by field: ${parts}`);
    }
  }
  console.log(`  ${"all informer caches".padEnd(48)} ${mib(cacheTotal).padStart(11)}`);

  // The largest collections, named by what holds them (a closure's variable, a property).
  const holders = (n: number): string => {
    const out: string[] = [];
    for (let p = predCount[n] as number; p < (predCount[n + 1] as number) && out.length < 2; p++) {
      const from = preds[p] as number;
      for (let e = firstEdge[from] as number; e < (firstEdge[from + 1] as number); e++) {
        if (edgeTo(e) === n && followed(e)) {
          out.push(`${classOf(from)}.${edgeName(e)}`);
          break;
        }
      }
    }
    return out.join(", ");
  };
  const collections = new Set(["Map", "Set", "Array", "Object", "WeakMap"]);
  const big = new Set<number>();
  for (let n = 0; n < nodeCount; n++) {
    if (type(n) === T_OBJECT && collections.has(name(n)) && retainedOf(n) > 256 * 1024) big.add(n);
  }
  const outermost = [...big].filter((n) => {
    for (
      let k = idom[postIndex[n] as number] as number;
      k !== rootPost && k !== UNDEF;
      k = idom[k] as number
    ) {
      if (big.has(postOrder[k] as number)) return false;
    }
    return true;
  });
  outermost.sort((a, b) => retainedOf(b) - retainedOf(a));
  console.log(`
largest collections not inside another (Map, Set, Array, Object over 256 KiB), top ${top}`);
  for (const n of outermost.slice(0, top)) {
    console.log(`  ${mib(retainedOf(n)).padStart(11)}  ${name(n).padEnd(7)} held by ${holders(n)}`);
  }

  // Strings held many times: string nodes with the same content.
  const copies = new Map<number, { count: number; bytes: number }>();
  for (let n = 0; n < nodeCount; n++) {
    if ((postIndex[n] as number) < 0 || type(n) !== T_STRING) continue;
    const key = nodes[n * NF + nName] as number;
    const entry = copies.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += self(n);
    copies.set(key, entry);
  }
  let wasted = 0;
  const dup = [...copies].filter(([, c]) => c.count > 1);
  for (const [, c] of dup) wasted += c.bytes - c.bytes / c.count;
  console.log(
    `\nstrings held more than once: ${dup.length} distinct contents, ${mib(wasted)} in the extra copies (top ${top} by bytes of extra copies)`,
  );
  for (const [key, c] of dup
    .sort((a, b) => b[1].bytes - b[1].bytes / b[1].count - (a[1].bytes - a[1].bytes / a[1].count))
    .slice(0, top)) {
    const text = JSON.stringify((strings[key] ?? "").slice(0, 70));
    console.log(`  ${mib(c.bytes - c.bytes / c.count).padStart(11)}  x${c.count}  ${text}`);
  }
  const long: number[] = [];
  for (let n = 0; n < nodeCount; n++) {
    if ((postIndex[n] as number) >= 0 && (type(n) === T_STRING || type(n) === T_CONS) && self(n) > 64 * 1024)
      long.push(n);
  }
  long.sort((a, b) => self(b) - self(a));
  console.log(`\nstrings over 64 KiB: ${long.length}`);
  for (const n of long.slice(0, top))
    console.log(`  ${mib(self(n)).padStart(11)}  ${JSON.stringify(name(n).slice(0, 70))}`);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: node scripts/heap-summary.ts FILE.heapsnapshot [--top N]");
  process.exit(2);
}
const started = Date.now();
const snapshot = await readSnapshot(file);
console.log(`${file}: read in ${Date.now() - started} ms`);
analyse(snapshot, Number(values.top));
