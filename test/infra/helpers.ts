import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildAppOptions, buildApp } from "../../infra/app";
import { exampleSite } from "../../infra/site";

export interface StackJson {
  readonly terraform: {
    backend?: Record<string, Record<string, unknown>>;
    required_version?: string;
    required_providers?: Record<string, { source: string; version: string }>;
  };
  readonly provider: Record<string, Record<string, unknown>[]>;
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
}

export const STACK_NAMES = ["bootstrap", "dev", "staging", "prod"] as const;
export type StackName = (typeof STACK_NAMES)[number];

/** Synthesize the whole app (guardrails included) into a temp dir and read every stack's cdk.tf.json. */
export function synthAll(options: Partial<BuildAppOptions> = {}): Record<StackName, StackJson> {
  return synthApp(options).stacks;
}

/** {@link synthAll}, plus the directory it wrote: `<outdir>/stacks/<stack>/` holds each stack's assets. */
export function synthApp(options: Partial<BuildAppOptions> = {}): {
  outdir: string;
  stacks: Record<StackName, StackJson>;
} {
  const outdir = mkdtempSync(join(tmpdir(), "switchboard-synth-"));
  const { app } = buildApp({ site: exampleSite(), ...options, outdir });
  app.synth();
  const stacks = Object.fromEntries(
    STACK_NAMES.map((name) => [
      name,
      JSON.parse(readFileSync(join(outdir, "stacks", name, "cdk.tf.json"), "utf8")) as StackJson,
    ]),
  ) as Record<StackName, StackJson>;
  return { outdir, stacks };
}

/** All resources of one type in a stack (or Testing.synthScope output), without their `//` metadata. */
export function resources(stack: Pick<StackJson, "resource">, type: string): Record<string, unknown>[] {
  return Object.values(stack.resource?.[type] ?? {}).map(({ "//": _meta, ...rest }) => rest);
}

/** The only resource of a type; fails when there are none or several. */
export function only(stack: Pick<StackJson, "resource">, type: string): Record<string, unknown> {
  const all = resources(stack, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0] as Record<string, unknown>;
}

/** Resource counts by type, sorted by type. */
export function countsByType(stack: Pick<StackJson, "resource">): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stack.resource ?? {})
      .map(([type, byName]) => [type, Object.keys(byName).length] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** `Testing.synthScope` output parsed. */
export function parse(synthesized: string): StackJson {
  return JSON.parse(synthesized) as StackJson;
}
