import { request } from 'undici';
import { classifyHttpStatus, classifyNetworkError } from '../../../src/destinations/classify.js';
import type { Destination, OutboundEvent, SendResult } from '../../../src/destinations/destination.js';
import type { NetworkPolicy } from '../../../src/net/network-policy.js';

/**
 * The smallest honest HTTP destination: POSTs the batch as NDJSON with undici through the network
 * policy's dispatcher, and classifies the answer with `classifyHttpStatus` / `classifyNetworkError`
 * (the project's one place for that). Enough to test the runner against a real server.
 */
export function httpDestination(url: string, network: NetworkPolicy, maxBatchEvents = 100): Destination {
  return {
    maxBatchEvents,
    async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
      const body = `${batch.map((e) => e.json).join('\n')}\n`;
      const bytes = Buffer.byteLength(body, 'utf8');
      try {
        const res = await request(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/x-ndjson' },
          dispatcher: network.dispatcher,
          signal,
        });
        const text = await res.body.text();
        const retryAfter = res.headers['retry-after'];
        return classifyHttpStatus(
          res.statusCode,
          Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          text,
          bytes,
        );
      } catch (err: unknown) {
        return classifyNetworkError(err);
      }
    },
    async close(): Promise<void> {},
  };
}
