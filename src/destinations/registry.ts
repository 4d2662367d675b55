import { awsEventBridgeDestination } from './aws-eventbridge.js';
import { datadogDestination } from './datadog.js';
import type { DestinationDefinition } from './destination.js';
import { elasticsearchDestination } from './elasticsearch.js';
import { fileDestination } from './file.js';
import { natsDestination } from './nats.js';
import { splunkHecDestination } from './splunk-hec.js';
import { stdoutDestination } from './stdout.js';
import { syslogDestination } from './syslog.js';
import { webhookDestination } from './webhook.js';

/**
 * Every destination type, by the stream `type` of SPEC §4. Adding a destination is one module and
 * one line here.
 */
const DEFINITIONS: readonly DestinationDefinition[] = [
  webhookDestination,
  fileDestination,
  stdoutDestination,
  splunkHecDestination,
  datadogDestination,
  elasticsearchDestination,
  awsEventBridgeDestination,
  syslogDestination,
  natsDestination,
] as unknown as readonly DestinationDefinition[];

const BY_TYPE: ReadonlyMap<string, DestinationDefinition> = new Map(DEFINITIONS.map((d) => [d.type, d]));

export function destinationDefinition(type: string): DestinationDefinition | undefined {
  return BY_TYPE.get(type);
}

export function destinationTypes(): readonly string[] {
  return [...BY_TYPE.keys()];
}
