/**
 * A Slack incoming webhook stand-in: collects each post (`{text, blocks}`) and answers `ok` like Slack, or
 * fails on demand (a 500, or a refused connection when stopped) so retries can be tested. A test fixture.
 */
import { startEmulatorServer } from "./http-server";

export interface SlackPost {
  path: string;
  text: string;
  blocks: unknown[] | undefined;
}

export async function startSlackSink() {
  const posts: SlackPost[] = [];
  let failures = 0;
  const server = await startEmulatorServer((_req, res, recorded) => {
    if (recorded.method !== "POST" || !recorded.path.startsWith("/services/")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("no_service");
      return;
    }
    if (failures > 0) {
      failures--;
      res.writeHead(500, { "content-type": "text/plain" }).end("internal_error");
      return;
    }
    const body = recorded.body as { text?: unknown; blocks?: unknown[] } | undefined;
    if (typeof body?.text !== "string") {
      res.writeHead(400, { "content-type": "text/plain" }).end("invalid_payload");
      return;
    }
    posts.push({ path: recorded.path, text: body.text, blocks: body.blocks });
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  return {
    url: server.url,
    /** A webhook URL of this sink, shaped like Slack's. */
    webhookUrl: (name = "T000/B000/local") => `${server.url}/services/${name}`,
    posts,
    /** Answer the next `count` posts with a 500. */
    failNext(count: number) {
      failures = count;
    },
    requests: server.requests,
    close: () => server.close(),
  };
}

export type SlackSink = Awaited<ReturnType<typeof startSlackSink>>;
