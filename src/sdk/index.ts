/** The SDK a workflow engine calls (docs/sdk.md). */
export type { ExecutionLogStats, OrgRef, SdkValidation } from './emit-context.js';
export type { SdkErrorCode, SdkErrorReport } from './errors.js';
export { SDK_ERROR_CODES, SdkOptionError } from './errors.js';
export type {
  AddressOptions,
  ChildStartOptions,
  FailOptions,
  FlowRef,
  FolderRef,
  PauseOptions,
  RateLimitedOptions,
  ThrottledOptions,
  UserRef,
} from './execution-handle.js';
export { ExecutionHandle } from './execution-handle.js';
export type { ExecutionLogOptions, StartOptions } from './execution-log.js';
export { ExecutionLog } from './execution-log.js';
export type { EventSink, SinkStats } from './sinks/event-sink.js';
export type { DropReason, HttpSinkOptions, SinkDrop, SinkFailure, SinkRejection } from './sinks/http-sink.js';
export { HTTP_SINK_DEFAULTS, HttpSink } from './sinks/http-sink.js';
export type { MemorySinkOptions } from './sinks/memory-sink.js';
export { MemorySink } from './sinks/memory-sink.js';
