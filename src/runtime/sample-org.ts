import type { OrgRef } from '../sdk/emit-context.js';
import type { UserRef } from '../sdk/execution-handle.js';
import { defineFlow } from './flow-builder.js';
import type { FlowDefinition } from './flow-definition.js';

/**
 * The demo's sample org: an identity team's flows, with stable ids (a SIEM keys on them, so two
 * runs of the demo look like the same org). docs/demo.md says which flow produces which events.
 *
 * Waits and backoffs are seconds here so the demo moves; real Okta flows wait hours or days, and
 * third parties ask for backoffs of 30–60 s. Cards with a connector address (`okta:suspendUser:…`,
 * `slack:postMessage:…`) stand in for connector cards the runtime does not implement: they compose
 * text, and their address is what a real connector card would report.
 */

export const SAMPLE_ORG: OrgRef = Object.freeze({
  id: '01J1PRBFM0SPMNGNB5EPNSF2FE',
  name: 'acme-demo',
  hostname: 'acme-demo.workflows.okta.com',
});

/** The Workflows admin the flows run as. */
export const SAMPLE_ADMIN: UserRef = Object.freeze({
  id: '01J1YFHMM0X50JZX9W0BCGCQ2M',
  email: 'workflows.admin@acme-demo.example',
});

export const SAMPLE_FLOW_IDS = Object.freeze({
  formatDisplayName: '01J353GDM0T12WRTKMBJ08RGJ5',
  onboardNewHire: '01J3CTPJM0S4NQ6CK6KSJ0099G',
  offboardEmployee: '01J3MHWQM048JBE83QT67R7CVC',
  syncEmployeeToHr: '01J3W92WM0D7T1F95ZD5E7HZB8',
  hrDirectorySync: '01J44091M0TNFRJZ04CPMDHWE9',
  accessReviewReminder: '01J4BQF6M0YZCW0135QPZZ18QM',
  provisionLaptop: '01J4KENBM0Z95PSDTKHBJ1MCA7',
  bulkImportContractors: '01J4V5VGM02N10HWZKF7FMTMG1',
  auditLogExport: '01J52X1NM0XTQB2N8T8G5Z9G84',
});

const LIFECYCLE = { id: '01J266QSM0NQA48CNHDP6EETBD', name: 'Identity Lifecycle' };
const JOINERS = [LIFECYCLE, { id: '01J2DXXYM0Y3S35HWYXCN0FHAB', name: 'Joiners' }];
const LEAVERS = [LIFECYCLE, { id: '01J2NN43M06NAQBKS66M4KJX8C', name: 'Leavers' }];
const HR = [
  { id: '01J2XCA8M0Y5X3QQ92SDPHF17E', name: 'Integrations' },
  { id: '01J5AM7TM0MJVVK58MQMW8REYP', name: 'HR Cloud' },
];
const UTILITIES = [{ id: '01J5JBDZM0N4MEYXJCSG4HKQ9Q', name: 'Utilities' }];

/** The HR system's connector cards (a made-up vendor: the address shape is Okta's). */
export const HR_CLOUD_ADDRESSES = Object.freeze({
  updateEmployee: 'hrcloud:updateEmployee:acme:2.3.1',
  getEmployee: 'hrcloud:getEmployee:acme:2.3.1',
});

export interface SampleOrgTimings {
  /** Wait card of the access review reminder, ms. Default 2000. */
  readonly reminderWaitMillis?: number;
  /** Retry delay of the HR flows, s. Default 1. */
  readonly retryDelaySeconds?: number;
  /** Period of the scheduled HR directory sync, ms. Default 3000. */
  readonly directorySyncEveryMillis?: number;
  /** Period of the (not streamed) audit export, ms. Default 5000. */
  readonly auditExportEveryMillis?: number;
}

/** The sample org's flows; HTTP cards call the HR system at `hrApiUrl`. */
export function sampleOrgFlows(hrApiUrl: string, timings: SampleOrgTimings = {}): FlowDefinition[] {
  const ids = SAMPLE_FLOW_IDS;
  const retryDelaySeconds = timings.retryDelaySeconds ?? 1;

  const formatDisplayName = defineFlow({
    id: ids.formatDisplayName,
    name: 'Format Display Name',
    folderPath: UTILITIES,
    trigger: { type: 'helper' },
  })
    .text('capitalize', '{{input.firstName}}', { as: 'first' })
    .text('capitalize', '{{input.lastName}}', { as: 'last' })
    .compose('{{first}} {{last}}', { as: 'displayName' })
    .return({ displayName: '{{displayName}}' })
    .build();

  const onboardNewHire = defineFlow({ id: ids.onboardNewHire, name: 'Onboard New Hire', folderPath: JOINERS })
    .text('concatenate', ['{{input.firstName}}', '{{input.lastName}}'], { argument: '.', as: 'handle' })
    .text('lowercase', '{{handle}}@acme-demo.example', { as: 'login' })
    .call(
      formatDisplayName,
      { firstName: '{{input.firstName}}', lastName: '{{input.lastName}}' },
      { as: 'name' },
    )
    .if(
      { value: '{{input.department}}', operator: 'equals', compareTo: 'Engineering' },
      (yes) => yes.compose('GitHub, PagerDuty, AWS for {{login}}', { as: 'apps' }),
      (no) => no.compose('Slack, Google Workspace for {{login}}', { as: 'apps' }),
    )
    .return({ login: '{{login}}', displayName: '{{name.displayName}}', apps: '{{apps}}' })
    .build();

  const offboardEmployee = defineFlow({
    id: ids.offboardEmployee,
    name: 'Offboard Employee',
    folderPath: LEAVERS,
  })
    .compose('{{input.login}}', { as: 'login' })
    .if({ value: '{{input.oktaUserId}}', operator: 'not_exists' }, (yes) =>
      yes.fail('Not found: Resource not found: {{login}} (User)', {
        code: 'E0000007',
        errorType: 'not_found',
      }),
    )
    .compose('suspend {{input.oktaUserId}}', { address: 'okta:suspendUser:acme:1.0.44' })
    .compose('clear sessions {{input.oktaUserId}}', { address: 'okta:clearUserSessions:acme:1.0.44' })
    .return({ offboarded: '{{login}}' })
    .build();

  const syncEmployeeToHr = defineFlow({
    id: ids.syncEmployeeToHr,
    name: 'Sync Employee to HR Cloud',
    folderPath: HR,
    retry: { attempts: 2, delaySeconds: retryDelaySeconds },
  })
    .compose('{{input.employeeId}}', { as: 'employeeId' })
    .http('POST', `${hrApiUrl}/v1/employees/{{employeeId}}`, {
      body: { department: '{{input.department}}', title: '{{input.title}}' },
      headers: { authorization: 'Bearer demo-hr-token' },
      address: HR_CLOUD_ADDRESSES.updateEmployee,
      as: 'response',
    })
    .return({ status: '{{response.body.status}}' })
    .build();

  // Three requests in a row: with the HR system's quota of 2 per second, the third usually gets a
  // 429 (FLOW_RATE_LIMIT, backoff, retry). Failures go to the handler (retry_policy: handler).
  const hrDirectorySync = defineFlow({
    id: ids.hrDirectorySync,
    name: 'HR Directory Sync',
    folderPath: HR,
    trigger: {
      type: 'schedule',
      everyMillis: timings.directorySyncEveryMillis ?? 3000,
      firstAfterMillis: 200,
    },
  })
    .try(
      (body) =>
        body
          .http('GET', `${hrApiUrl}/v1/employees/e-1001`, {
            address: HR_CLOUD_ADDRESSES.getEmployee,
            as: 'a',
          })
          .http('GET', `${hrApiUrl}/v1/employees/e-1002`, {
            address: HR_CLOUD_ADDRESSES.getEmployee,
            as: 'b',
          })
          .http('PUT', `${hrApiUrl}/v1/employees/e-1003`, {
            body: { status: 'active' },
            address: HR_CLOUD_ADDRESSES.updateEmployee,
            as: 'c',
          }),
      (handler) => handler.compose('directory sync gave up: {{error.code}}', { as: 'note' }),
      { retry: { attempts: 1, delaySeconds: retryDelaySeconds } },
    )
    .return('{{note}}')
    .build();

  const accessReviewReminder = defineFlow({
    id: ids.accessReviewReminder,
    name: 'Access Review Reminder',
    folderPath: UTILITIES,
  })
    .compose('Reminder: review access for {{input.manager}}', { as: 'message' })
    .wait(timings.reminderWaitMillis ?? 2000)
    .compose('Escalated: {{message}}', { address: 'slack:postMessage:acme:3.1.0' })
    .return('reminded')
    .build();

  const provisionLaptop = defineFlow({
    id: ids.provisionLaptop,
    name: 'Provision Laptop',
    folderPath: JOINERS,
  })
    .compose('Laptop for {{input.login}}', { as: 'order' })
    .pause()
    .compose('Shipping {{order}}', { address: 'servicenow:createRecord:acme:2.0.5' })
    .return('shipped')
    .build();

  const bulkImportContractors = defineFlow({
    id: ids.bulkImportContractors,
    name: 'Bulk Import Contractors',
    folderPath: JOINERS,
  })
    .compose('{{input.firstName}} {{input.lastName}}', { as: 'who' })
    .call(
      formatDisplayName,
      { firstName: '{{input.firstName}}', lastName: '{{input.lastName}}' },
      { as: 'name' },
    )
    .return('{{name.displayName}}')
    .build();

  // Streaming off for this flow (Okta's per-flow switch): it runs, nothing of it is streamed.
  const auditLogExport = defineFlow({
    id: ids.auditLogExport,
    name: 'Audit Log Export',
    folderPath: UTILITIES,
    streamExecutionLogs: false,
    trigger: { type: 'schedule', everyMillis: timings.auditExportEveryMillis ?? 5000 },
  })
    .compose('export')
    .return('exported')
    .build();

  return [
    formatDisplayName,
    onboardNewHire,
    offboardEmployee,
    syncEmployeeToHr,
    hrDirectorySync,
    accessReviewReminder,
    provisionLaptop,
    bulkImportContractors,
    auditLogExport,
  ];
}
