import type { ConnectedChannels, QueuedChannel, QueuedChannelName, TenantChannel } from "./channel";

/**
 * Several kinds of tenant connection as the one `ConnectedChannels` the pipeline takes (Intercom apps,
 * phone numbers, …): each channel name is answered by the first that serves it.
 */
export function combineConnected(...all: (ConnectedChannels | undefined)[]): ConnectedChannels | undefined {
  const present = all.filter((c): c is ConnectedChannels => c !== undefined);
  if (present.length <= 1) return present[0];
  const serving = (name: QueuedChannelName) => present.find((c) => c.names.includes(name));
  return {
    names: [...new Set(present.flatMap((c) => c.names))],
    byConnection: (name, connectionId): Promise<TenantChannel | undefined> =>
      serving(name)?.byConnection(name, connectionId) ?? Promise.resolve(undefined),
    ofTenant: (name, tenantId): Promise<QueuedChannel<unknown> | undefined> =>
      serving(name)?.ofTenant(name, tenantId) ?? Promise.resolve(undefined),
  };
}
