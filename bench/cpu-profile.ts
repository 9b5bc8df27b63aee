/**
 * Reads a V8 CPU profile (`node --cpu-prof`) of a bundled server and says where its CPU went: every frame
 * mapped back through the bundle's source map to its package or source file, self time per package and
 * per group, which callers the socket and pipe writes came from, and the inclusive time of named probes.
 * Only the samples inside a window of the monotonic clock count (the load, not the start-up).
 */
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Probe {
  label: string;
  /** Function name, exact; omitted: any function of `source`. */
  fn?: string;
  /** A piece of the original source path (`adapters/gemini`, `node_modules/postgres/`). */
  source: string;
}

interface Frame {
  name: string;
  /** Original source (`service/src/…`, `node_modules/<pkg>/…`, `node:…`), or "" for native code. */
  source: string;
  line: number;
  category: string;
}

/** Native functions that write to a socket, a pipe or a file. */
const NATIVE_WRITES = new Set([
  "writev",
  "writeBuffer",
  "writeUtf8String",
  "writeLatin1String",
  "writeAsciiString",
  "writeUcs2String",
  "writeString",
]);

const CALLER_PAYS = new Set(["native", "node:internal/worker"]);

/** Fine categories → the groups the report compares. */
const GROUPS: [RegExp, string][] = [
  [/^GC$/, "GC"],
  [/^writes \(native\)$/, "socket and pipe writes (native)"],
  [
    /^node:(net|internal\/stream_base_commons|internal\/streams|stream|internal\/net)/,
    "streams and sockets (node JS)",
  ],
  [
    /^(@google\/genai|node:internal\/deps\/undici|node:internal\/webstreams|node:internal\/abort_controller|node:internal\/event_target|node:internal\/url|node:internal\/deps\/cjs-module-lexer|node:buffer|node:internal\/blob|google-auth-library|gaxios)/,
    "Gemini SDK and fetch (undici, web streams, abort signals)",
  ],
  [/^postgres$/, "postgres.js"],
  [
    /^(node:_http|node:http|node:internal\/http|@hono\/node-server)/,
    "HTTP server (node http, @hono/node-server)",
  ],
  [/^(hono|@hono\/zod-openapi|zod|@asteasolutions)/, "Hono routing and zod validation"],
  [
    /^(pino|@pinojs\/|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|on-exit-leak-free|atomic-sleep|node:internal\/console)|^service\/src\/(logger|log-privacy)/,
    "logging (pino, console)",
  ],
  [/^node:internal\/process/, "promise and tick scheduling"],
  [/^jose$/, "JWT (jose)"],
  [/^node:internal\/crypto/, "hashing and crypto (node)"],
  [/^service\/src\//, "Switchboard code"],
  [/^bench\//, "the benchmark's own server code"],
  [/^\(program\)$/, "V8 and native (program)"],
];

function packageOf(source: string): string | undefined {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
  return m?.[1];
}

function categoryOf(name: string, url: string, source: string): string {
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)" || name === "(idle)" || name === "(root)") return name;
  if (!url) return NATIVE_WRITES.has(name) ? "writes (native)" : "native";
  const pkg = packageOf(source);
  if (pkg) return pkg;
  if (url.startsWith("node:")) return url.replace(/^(node:(?:internal\/(?:deps\/)?)?[^/]+).*$/, "$1");
  // Mapped sources are relative to the repository; what the map does not cover keeps the bundle's path.
  return /^(service\/src|bench)\//.test(source) ? source : "bundle code without a source mapping";
}

/** Frame → original position, through the source map of each bundle (`<file>.map` beside it). */
function resolver() {
  const maps = new Map<string, SourceMap | undefined>();
  return (url: string, line: number, column: number): { source: string; line: number; name?: string } => {
    if (!url.startsWith("file://")) return { source: url, line };
    const file = fileURLToPath(url);
    if (!maps.has(file)) {
      const mapFile = `${file}.map`;
      maps.set(
        file,
        existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, "utf8"))) : undefined,
      );
    }
    const entry = maps.get(file)?.findEntry(line, column) as
      | { originalSource?: string; originalLine?: number; name?: string }
      | undefined;
    if (!entry?.originalSource) return { source: file, line };
    return {
      source: entry.originalSource.replace(/^.*?(node_modules\/|service\/src\/|bench\/)/, "$1"),
      line: entry.originalLine ?? 0,
      // The minifier renamed functions; the map keeps their names.
      ...(entry.name ? { name: entry.name } : {}),
    };
  };
}

const GROUP_OF = (category: string) =>
  GROUPS.find(([pattern]) => pattern.test(category))?.[1] ?? "other node internals";

/** Callers a write is charged to, in the order they are looked for up the stack. */
const WRITERS: [RegExp, string][] = [
  [/^postgres$/, "database (postgres.js)"],
  [/^(pino|sonic-boom|node:internal\/console)$|^service\/src\/logger/, "log lines (stdout)"],
  [/^(node:internal\/deps\/undici|@google\/genai)/, "Gemini requests (undici)"],
  [/^(node:_http|@hono\/node-server)/, "HTTP responses"],
];

/** Every node of the profile as a frame of original source, and the stack (leaf first) of a sample. */
function stacks(profile: CpuProfile): (node: number) => Frame[] {
  const resolve = resolver();
  const frames = new Map<number, Frame>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const original = resolve(url, lineNumber, columnNumber);
    frames.set(node.id, {
      name: original.name ?? (functionName || "(anonymous)"),
      source: original.source,
      line: original.line + 1,
      category: categoryOf(functionName, url, original.source),
    });
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  return (id) => {
    const stack: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frames.get(at);
      if (frame) stack.push(frame);
    }
    return stack;
  };
}

/** Milliseconds per key, and the helpers to report them per turn and as a share of the busy time. */
class Tally {
  readonly ms = new Map<string, number>();
  add(key: string, ms: number) {
    this.ms.set(key, (this.ms.get(key) ?? 0) + ms);
  }
  rows(turns: number, busyMs: number, limit = 100) {
    return [...this.ms]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, ms]) => ({ name, ...perTurn(ms, turns, busyMs) }));
  }
}

const perTurn = (ms: number, turns: number, busyMs: number) => ({
  msPerTurn: Math.round((ms / Math.max(1, turns)) * 1000) / 1000,
  share: Math.round((ms / Math.max(1, busyMs)) * 1000) / 10,
});

export function analyseProfile(
  profile: CpuProfile,
  window: { fromUs: number; toUs: number },
  turns: number,
  probes: readonly Probe[],
) {
  const stackOf = stacks(profile);
  const [packages, groups, writesBy, probed, functions] = [
    new Tally(),
    new Tally(),
    new Tally(),
    new Tally(),
    new Tally(),
  ];
  let busyMs = 0;
  let idleMs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < window.fromUs || t > window.toUs) continue;
    const ms = (profile.timeDeltas[i + 1] ?? 1000) / 1000;
    const stack = stackOf(profile.samples[i] ?? 0);
    const leaf = stack[0];
    if (!leaf || leaf.category === "(idle)") {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    // Native code other than writes, and the transferable wrapper every web stream, abort signal and
    // CryptoKey goes through, belong to the JavaScript that called them.
    const owner = stack.find((f) => !CALLER_PAYS.has(f.category)) ?? leaf;
    const category = CALLER_PAYS.has(leaf.category) ? owner.category : leaf.category;
    const group = GROUP_OF(category);
    packages.add(category, ms);
    groups.add(group, ms);
    functions.add(`${leaf.name} ${leaf.source}:${leaf.line}`, ms);
    if (group.startsWith("socket and pipe writes") || group.startsWith("streams")) {
      const writer = stack.map((f) => WRITERS.find(([p]) => p.test(f.category))?.[1]).find(Boolean);
      writesBy.add(writer ?? "other", ms);
    }
    for (const probe of probes) {
      if (stack.some((f) => f.source.includes(probe.source) && (!probe.fn || f.name === probe.fn)))
        probed.add(probe.label, ms);
    }
  }
  return {
    turns,
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idleMs),
    busyMsPerTurn: Math.round((busyMs / Math.max(1, turns)) * 1000) / 1000,
    groups: groups.rows(turns, busyMs),
    packages: packages.rows(turns, busyMs, 30),
    writesBy: writesBy.rows(turns, busyMs),
    probes: probes.map((p) => ({ name: p.label, ...perTurn(probed.ms.get(p.label) ?? 0, turns, busyMs) })),
    topFunctions: functions.rows(turns, busyMs, 25),
  };
}
