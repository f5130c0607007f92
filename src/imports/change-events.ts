// The Events one import round records on its stream: one for the tags it moved and one for the
// tags that failed, however many tags the stream has. An Event per tag made a cold import of
// 10,000 streams of 3 tags write 30,000 Events, a third of the API writes (docs/benchmarks.md).
import type { TagChange } from "./model.ts";

export interface ChangeEvent {
  type: "Normal" | "Warning";
  reason: "Imported" | "ImportFailed";
  note: string;
}

/** The round's Events, updated tags first; none when nothing changed. */
export function changeEvents(changes: readonly TagChange[]): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  const updated = changes.flatMap((c) => (c.kind === "Updated" ? [c] : []));
  const failed = changes.flatMap((c) => (c.kind === "Failed" ? [c] : []));
  if (updated.length === 1 && updated[0]) {
    const only = updated[0];
    events.push({
      type: "Normal",
      reason: "Imported",
      note: `tag ${only.tag} now points to ${only.dockerImageReference}`,
    });
  } else if (updated.length > 1) {
    events.push({
      type: "Normal",
      reason: "Imported",
      note: `${updated.length} tags imported: ${updated.map((c) => `${c.tag} now points to ${c.dockerImageReference}`).join("; ")}`,
    });
  }
  if (failed.length === 1 && failed[0]) {
    const only = failed[0];
    events.push({
      type: "Warning",
      reason: "ImportFailed",
      note: `tag ${only.tag}: ${only.reason}: ${only.message}`,
    });
  } else if (failed.length > 1) {
    events.push({
      type: "Warning",
      reason: "ImportFailed",
      note: `${failed.length} tags failed: ${failed.map((c) => `${c.tag}: ${c.reason}: ${c.message}`).join("; ")}`,
    });
  }
  return events;
}
