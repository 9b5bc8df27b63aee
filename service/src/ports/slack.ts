/** A Slack incoming-webhook message: `text` is the fallback every client shows, `blocks` the layout. */
export interface SlackMessage {
  text: string;
  blocks?: Record<string, unknown>[] | undefined;
}

/** Posts to a Slack incoming webhook (adapters/slack-webhook.ts). */
export interface SlackPoster {
  /** Resolves on a 2xx; throws `SlackPostError` otherwise. `url` is a credential: never logged. */
  post(url: string, message: SlackMessage): Promise<void>;
}

/** A refused or failed post; its message never holds the webhook URL. */
export class SlackPostError extends Error {
  constructor(
    /** The HTTP status Slack answered with, 0 when it did not answer. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "SlackPostError";
  }
}
