/**
 * The service's layers point one way: routes and channel adapters → engine → ports ← adapters; `db/`
 * depends on nothing above it; `domain/` (shared types and pure rules) on nothing at all. Each rule below
 * names one forbidden direction. `npm test` runs them (`npm run deps`), so a back-arrow fails CI, and
 * test/service/layering.test.ts proves that a back-arrow is caught.
 * https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 */
const SRC = "^service/src/";
// The HTTP edge: the app, its middleware, routes, the widget and the console they serve.
const HTTP_EDGE = `${SRC}(app\\.ts$|http/|middleware/|routes/|widget/|console/)`;
// The composition root and the entry points: the only modules that see the whole configuration.
const COMPOSITION = `${SRC}(compose/|main\\.ts$|server\\.ts$|migrate-cli\\.ts$)`;
const CONFIG = `${SRC}config\\.ts$`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle means two modules are one concern or a layer points back up.",
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: "domain-is-a-leaf",
      severity: "error",
      comment: "Shared domain types and pure rules depend on nothing else of the service.",
      from: { path: `${SRC}domain/` },
      to: { path: SRC, pathNot: `${SRC}domain/` },
    },
    {
      name: "db-depends-on-nothing-above",
      severity: "error",
      comment: "db/ is the bottom layer: it may use the domain types, never the engine, channels or HTTP.",
      from: { path: `${SRC}db/` },
      to: { path: SRC, pathNot: `${SRC}(db|domain)/` },
    },
    {
      name: "ports-are-interfaces",
      severity: "error",
      comment: "Ports describe what the engine needs; they know no implementation.",
      from: { path: `${SRC}ports/` },
      to: { path: SRC, pathNot: `${SRC}(ports|domain)/` },
    },
    {
      name: "engine-points-inward",
      severity: "error",
      comment: "The engine uses ports, db and domain; adapters, channels, HTTP and composition use it.",
      from: { path: `${SRC}engine/` },
      to: { path: [`${SRC}(adapters|channels|compose)/`, HTTP_EDGE, CONFIG, COMPOSITION] },
    },
    {
      name: "core-knows-no-http",
      severity: "error",
      comment: "The engine speaks domain errors; only the HTTP edge knows statuses (hono).",
      from: { path: `${SRC}(engine|domain|db|ports|channels|adapters)/` },
      to: { path: "node_modules/(hono|@hono)/" },
    },
    {
      name: "adapters-implement-ports",
      severity: "error",
      comment: "An adapter implements a port; it never reaches into the engine, channels or HTTP.",
      from: { path: `${SRC}adapters/` },
      to: { path: [`${SRC}(engine|channels|compose)/`, HTTP_EDGE, CONFIG, COMPOSITION] },
    },
    {
      name: "channels-use-the-engine-and-ports",
      severity: "error",
      comment: "A channel drives the engine through ports; vendor adapters are composed in, not imported.",
      from: { path: `${SRC}channels/` },
      to: { path: [`${SRC}(adapters|compose)/`, HTTP_EDGE, CONFIG, COMPOSITION] },
    },
    {
      name: "pipeline-knows-no-channel",
      severity: "error",
      comment:
        "The inbound pipeline runs any channel through the interfaces of channels/pipeline/channel.ts: a new channel never changes it.",
      from: { path: `${SRC}channels/pipeline/` },
      to: { path: `${SRC}channels/`, pathNot: `${SRC}channels/pipeline/` },
    },
    {
      name: "channels-are-independent",
      severity: "error",
      comment: "A channel's folder uses the pipeline's interfaces, never another channel's code.",
      from: { path: `${SRC}channels/([^/]+)/` },
      to: { path: `${SRC}channels/`, pathNot: [`${SRC}channels/$1/`, `${SRC}channels/pipeline/`] },
    },
    {
      name: "http-edge-is-composed",
      severity: "error",
      comment: "Routes and middleware get their parts from createApp's deps, never by building them.",
      from: { path: HTTP_EDGE },
      to: { path: [`${SRC}(adapters|compose)/`, CONFIG, COMPOSITION] },
    },
    {
      name: "config-only-in-composition",
      severity: "error",
      comment: "Parts take plain settings; only the composition root reads the configuration.",
      from: { path: SRC, pathNot: [COMPOSITION, CONFIG] },
      to: { path: CONFIG },
    },
    {
      name: "config-is-near-a-leaf",
      severity: "error",
      comment: "The configuration parses values into domain types; it builds nothing.",
      from: { path: CONFIG },
      to: { path: SRC, pathNot: `${SRC}(domain|ports)/` },
    },
    {
      name: "utilities-are-leaves",
      severity: "error",
      comment: "Logging and redaction are used by every layer, so they use none.",
      from: { path: `${SRC}(logger\\.ts$|log-privacy\\.ts$|redaction/)` },
      to: { path: SRC, pathNot: `${SRC}(logger\\.ts$|log-privacy\\.ts$|redaction/)` },
    },
    {
      name: "vendor-sdks-in-adapters",
      severity: "error",
      comment: "Only an adapter (and the database client's Cloud SQL connector) imports a vendor SDK.",
      from: { path: SRC, pathNot: `${SRC}(adapters/|db/client\\.ts$)` },
      to: {
        path: "node_modules/(@google/genai|intercom-client|@google-cloud/|@googleapis/|google-auth-library/|twilio/|telnyx/)",
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports are dependencies too: a type from a layer above is still a back-arrow.
    tsPreCompilationDeps: true,
    exclude: { path: "\\.d\\.ts$" },
  },
};
