// Pure generators behind scripts/gen-crds.ts: CRD manifests and TypeScript interfaces,
// both derived from the schemas in schema.ts so the two cannot drift.
import { API_GROUP, API_VERSION_NAME, type CrdModel, type SchemaNode } from "./schema.ts";

const TS_ONLY_KEYS = new Set(["tsName", "tsType", "tsRequired"]);

/** The schema as the API server sees it: TypeScript-only keys removed, recursively. */
export function toOpenApiSchema(node: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (TS_ONLY_KEYS.has(key) || value === undefined) continue;
    if (key === "properties") {
      const props: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(value as Record<string, SchemaNode>)) {
        props[name] = toOpenApiSchema(child);
      }
      out[key] = props;
    } else if (key === "items" || key === "additionalProperties") {
      out[key] = toOpenApiSchema(value as SchemaNode);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export function crdGroup(model: CrdModel): string {
  return model.group ?? API_GROUP;
}

export function crdName(model: CrdModel): string {
  return `${model.plural}.${crdGroup(model)}`;
}

/** The CustomResourceDefinition object for one kind. */
export function toCrd(model: CrdModel): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crdName(model) },
    spec: {
      group: crdGroup(model),
      names: {
        kind: model.kind,
        listKind: model.listKind,
        plural: model.plural,
        singular: model.singular,
        ...(model.shortNames.length > 0 ? { shortNames: model.shortNames } : {}),
        ...(model.categories.length > 0 ? { categories: model.categories } : {}),
      },
      scope: "Namespaced",
      versions: [
        {
          name: model.version ?? API_VERSION_NAME,
          served: true,
          storage: true,
          ...(model.statusSubresource ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: model.printerColumns,
          schema: { openAPIV3Schema: toOpenApiSchema(model.schema) },
        },
      ],
    },
  };
}

// ---------------------------------------------------------------- TypeScript

interface Emitter {
  /** Named declarations in order of first use. */
  declarations: Map<string, string>;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function docComment(text: string | undefined, indent: string): string {
  if (!text) return "";
  const words = text.replaceAll("*/", "*\\/").split(/\s+/);
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && indent.length + 4 + line.length + 1 + word.length > 100) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */\n`;
}

function literalUnion(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(" | ");
}

/** A union alias laid out as the formatter (Biome, 110 columns) would, so the file needs no reformatting. */
function typeAlias(name: string, values: readonly string[]): string {
  const oneLine = `export type ${name} = ${literalUnion(values)};\n`;
  if (oneLine.length <= 111) return oneLine;
  return `export type ${name} =\n${values.map((v) => `  | ${JSON.stringify(v)}`).join("\n")};\n`;
}

function objectBody(node: SchemaNode, emitter: Emitter, indent: string): string {
  const required = new Set([...(node.required ?? []), ...(node.tsRequired ?? [])]);
  let body = "";
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
    const optional = required.has(name) ? "" : "?";
    body += docComment(child.description, indent);
    body += `${indent}${key}${optional}: ${typeExpression(child, emitter, indent)};\n`;
  }
  return body;
}

function declare(node: SchemaNode & { tsName: string }, emitter: Emitter): void {
  if (emitter.declarations.has(node.tsName)) return;
  // Reserve the slot first so recursive or repeated uses do not declare twice.
  emitter.declarations.set(node.tsName, "");
  let text = docComment(node.description, "");
  if (node.enum) {
    text += typeAlias(node.tsName, node.enum);
  } else {
    text += `export interface ${node.tsName} {\n${objectBody(node, emitter, "  ")}}\n`;
  }
  emitter.declarations.set(node.tsName, text);
}

function baseType(node: SchemaNode, emitter: Emitter, indent: string): string {
  if (node.tsType) return node.tsType;
  if (node.tsName) {
    declare(node as SchemaNode & { tsName: string }, emitter);
    return node.tsName;
  }
  if (node.enum) return literalUnion(node.enum);
  switch (node.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array": {
      const item = node.items ? typeExpression(node.items, emitter, indent) : "unknown";
      return IDENTIFIER.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case "object":
      if (node.properties) return `{\n${objectBody(node, emitter, `${indent}  `)}${indent}}`;
      if (node.additionalProperties) {
        return `Record<string, ${typeExpression(node.additionalProperties, emitter, indent)}>`;
      }
      return "Record<string, unknown>";
    default:
      return "unknown";
  }
}

function typeExpression(node: SchemaNode, emitter: Emitter, indent: string): string {
  const base = baseType(node, emitter, indent);
  return node.nullable ? `${base} | null` : base;
}

export const GENERATED_TS_HEADER =
  "// Generated by scripts/gen-crds.ts from src/api/schema.ts. DO NOT EDIT: change schema.ts and run\n" +
  "// `node scripts/gen-crds.ts`.\n";

/** TypeScript declarations for every named schema node, in order of first use. */
export function generateTypes(models: readonly CrdModel[]): string {
  const emitter: Emitter = { declarations: new Map() };
  for (const model of models) {
    if (!model.schema.tsName) throw new Error(`schema of ${model.kind} needs a tsName`);
    declare(model.schema as SchemaNode & { tsName: string }, emitter);
  }
  return `${GENERATED_TS_HEADER}import type { ObjectMeta } from "./meta.ts";\n\n${[...emitter.declarations.values()].join("\n")}`;
}
