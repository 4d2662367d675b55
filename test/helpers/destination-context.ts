import { pino } from 'pino';
import type {
  DestinationContext,
  DestinationDefinition,
  OutboundEvent,
  SendResult,
  StreamFormat,
} from '../../src/destinations/destination.js';
import { type NetworkPolicy, openNetworkPolicy } from '../../src/net/network-policy.js';

/** The network policy of destination tests: their peers listen on loopback. */
export const testNetwork: NetworkPolicy = openNetworkPolicy();
const logger = pino({ level: 'silent' });
const live = new AbortController().signal;

/** A DestinationContext as the stream manager builds it, for a stream named `streamName`. */
export function destinationContext(
  streamName: string,
  format: StreamFormat = 'okta',
  timeoutMillis = 5000,
  network: NetworkPolicy = testNetwork,
): DestinationContext {
  return { streamId: 'siem', streamName, format, network, logger, timeoutMillis };
}

/** Sends one batch through a fresh destination of `definition` and closes it. */
export async function sendOnce<Settings>(
  definition: DestinationDefinition<Settings>,
  settings: Settings,
  batch: readonly OutboundEvent[],
  format: StreamFormat = 'okta',
  timeoutMillis = 5000,
): Promise<SendResult> {
  const destination = definition.create(settings, destinationContext(definition.type, format, timeoutMillis));
  try {
    return await destination.send(batch, live);
  } finally {
    await destination.close();
  }
}
