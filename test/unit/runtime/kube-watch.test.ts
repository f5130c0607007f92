// The watch wire format: JSON lines cut anywhere by the network, blank lines, and lines that
// are not watch events.
import { describe, expect, it } from "vitest";
import { lines, parseWatchLine } from "../../../src/runtime/kube-watch.ts";

async function collect(chunks: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines(chunks.values() as unknown as AsyncIterable<Uint8Array>)) out.push(line);
  return out;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("lines", () => {
  it("joins lines and UTF-8 characters cut across chunks, and keeps a last line without newline", async () => {
    const whole = bytes('{"a":"é"}\n{"b":2}\n\n{"c":3}');
    // Cut inside the two bytes of "é", inside the second line and right after a newline.
    const cuts = [7, 15, 18];
    const chunks = [0, ...cuts].map((start, i) => whole.slice(start, cuts[i] ?? whole.length));
    expect(await collect(chunks)).toEqual(['{"a":"é"}', '{"b":2}', "", '{"c":3}']);
  });

  it("yields nothing for an empty stream", async () => {
    expect(await collect([])).toEqual([]);
  });
});

describe("parseWatchLine", () => {
  it("reads the event's type and object, skips blank lines", () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"metadata":{"name":"a"}}}')).toEqual({
      type: "ADDED",
      object: { metadata: { name: "a" } },
    });
    expect(parseWatchLine("  ")).toBeUndefined();
  });

  it("refuses a line that is not JSON or not a watch event, quoting it", () => {
    expect(() => parseWatchLine("<html>")).toThrow("watch stream: a line is not JSON: <html>");
    expect(() => parseWatchLine('{"kind":"Status"}')).toThrow(
      'a line is not a watch event: {"kind":"Status"}',
    );
  });
});
