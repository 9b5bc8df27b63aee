import { type SlackMessage, SlackPostError, type SlackPoster } from "../ports/slack";

/**
 * Slack incoming webhooks: a JSON POST of `{text, blocks}` to the webhook's URL; Slack answers 200 `ok`
 * (https://api.slack.com/messaging/webhooks). The URL is the credential, so no error names it.
 */
export function slackWebhookPoster(opts: { timeoutMs?: number } = {}): SlackPoster {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    async post(url: string, message: SlackMessage): Promise<void> {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(message),
          // A webhook answers itself; following a redirect would post the team's message elsewhere.
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "unreachable";
        throw new SlackPostError(0, `Slack webhook ${reason}`);
      }
      await response.body?.cancel().catch(() => {});
      if (!response.ok)
        throw new SlackPostError(response.status, `Slack webhook answered ${response.status}`);
    },
  };
}
