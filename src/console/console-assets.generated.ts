// Generated from src/console/assets/ by src/console/generate-assets.ts: do not edit.
// Regenerate with `node --import tsx src/console/generate-assets.ts`.

/** The console files by name (UTF-8 text), embedded so an installed package serves them from dist/. */
export const CONSOLE_ASSET_FILES: Readonly<Record<string, string>> = Object.freeze({
  'app.js': `// flowstream console: one ES module, no framework, no build step. It reads everything through the
// public HTTP API (docs/http-api.md) with the token the user enters. Invariants:
// - Data from the API reaches the page only as text (textContent, Text nodes), never as HTML; the
//   page's Content-Security-Policy forbids inline script and other origins besides.
// - The token lives in sessionStorage (this tab only) and is sent as \`Authorization: Bearer\`.
// - A 401 anywhere stops every loop and asks for a token again; a network error is shown and retried.

const TOKEN_KEY = 'flowstream.console.token';
/** Streams and health are re-read this often (after the previous refresh finished), ms. */
const REFRESH_MILLIS = 2000;
/** Long-poll wait of the live tail, ms (the server caps it at 30 000). */
const TAIL_WAIT_MILLIS = 25_000;
/** Rows the live tail keeps; older rows are dropped. */
const TAIL_MAX_ROWS = 200;
/** The tail starts with this many of the latest stored events. */
const TAIL_BACKLOG = 50;
/** Retry delays after a network error grow to this, ms. */
const RETRY_MAX_MILLIS = 10_000;
/** Health requests in flight at once. */
const HEALTH_CONCURRENCY = 4;
/** Stream pages followed per refresh (200 streams each). */
const MAX_STREAM_PAGES = 10;

const EVENT_TYPES = [
  'FLOW_START',
  'FLOW_COMPLETE',
  'FLOW_FAIL',
  'FLOW_CANCEL',
  'FLOW_PAUSE',
  'FLOW_RATE_LIMIT',
  'FLOW_THROTTLE',
];
/** Aliases accepted on input (SPEC §1) are stored as received; they get their canonical colour. */
const ALIASES = {
  FLOW_FAILED: 'FLOW_FAIL',
  FLOW_FAILURE: 'FLOW_FAIL',
  FLOW_CANCELED: 'FLOW_CANCEL',
  FLOW_CANCELLED: 'FLOW_CANCEL',
  FLOW_PAUSED: 'FLOW_PAUSE',
  FLOW_RATE_LIMITED: 'FLOW_RATE_LIMIT',
  FLOW_THROTTLED: 'FLOW_THROTTLE',
};
const HEALTH_STATUSES = ['ACTIVE', 'DEGRADED', 'PAUSED', 'INACTIVE'];

const numbers = new Intl.NumberFormat('en');

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only.

const byId = (id) => {
  const node = document.getElementById(id);
  if (node === null) throw new Error(\`console page is missing #\${id}\`);
  return node;
};

/** An element with text children; \`props.text\` sets textContent, \`on*\` adds listeners. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  // append() turns strings into Text nodes: nothing is parsed as HTML.
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function setText(node, value) {
  const text = value === undefined || value === null ? '' : String(value);
  if (node.textContent !== text) node.textContent = text;
}

function show(node, visible) {
  if (node.hidden === visible) node.hidden = !visible;
}

function showMessage(node, text, kind) {
  setText(node, text ?? '');
  if (kind !== undefined) node.dataset.kind = kind;
  show(node, Boolean(text));
}

const formatCount = (n) => (typeof n === 'number' ? numbers.format(n) : '—');
/** \`2024-04-04T18:30:38.730Z\` → \`2024-04-04 18:30:38.730Z\` (UTC, as stored). */
const formatTime = (iso) => (typeof iso === 'string' && iso !== '' ? iso.replace('T', ' ') : '—');
const truncate = (text, max) => (text.length > max ? \`\${text.slice(0, max - 1)}…\` : text);

function canonicalType(type) {
  const upper = String(type ?? '').toUpperCase();
  return ALIASES[upper] ?? upper;
}

function typeBadge(type) {
  const canonical = canonicalType(type);
  const known = EVENT_TYPES.includes(canonical);
  return el('span', {
    class: \`badge type \${known ? \`type-\${canonical.toLowerCase().replaceAll('_', '-')}\` : 'type-other'}\`,
    text: type ?? '?',
  });
}

function setHealthBadge(node, status) {
  const known = HEALTH_STATUSES.includes(status);
  const cls = \`badge health \${known ? \`health-\${status.toLowerCase()}\` : 'health-unknown'}\`;
  if (node.className !== cls) node.className = cls;
  setText(node, known ? status : (status ?? '…'));
}

const sleep = (millis, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, millis);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

// ---------------------------------------------------------------------------------------------
// API client.

/** A non-2xx answer; \`code\` is flowstream's errorCode (Okta's error shape). */
class ApiError extends Error {
  constructor(status, body) {
    const code = typeof body?.errorCode === 'string' ? body.errorCode : \`HTTP_\${status}\`;
    const summary =
      typeof body?.errorSummary === 'string' ? body.errorSummary : \`The server answered \${status}.\`;
    const causes = Array.isArray(body?.errorCauses)
      ? body.errorCauses
          .map((c) => (typeof c?.errorSummary === 'string' ? c.errorSummary : ''))
          .filter(Boolean)
      : [];
    super(\`\${summary}\${causes.length > 0 ? \` \${causes.join(' ')}\` : ''}\`);
    this.status = status;
    this.code = code;
  }
  describe() {
    return \`\${this.status} \${this.code}: \${this.message}\`;
  }
}

/** The server could not be reached (or the connection broke). */
class NetworkError extends Error {
  describe() {
    return \`Cannot reach flowstream (\${this.message}).\`;
  }
}

/** The token was refused: the console asks for another one. */
class Unauthorized extends ApiError {}

const describeError = (err) =>
  err instanceof ApiError || err instanceof NetworkError
    ? err.describe()
    : \`Unexpected error: \${String(err)}\`;

let session = { token: null, id: 0, abort: new AbortController() };

async function api(method, path, { body, signal } = {}) {
  const token = session.token;
  if (token === null)
    throw new Unauthorized(401, { errorCode: 'FS_UNAUTHENTICATED', errorSummary: 'No token.' });
  const headers = { authorization: \`Bearer \${token}\`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      signal: signal ?? session.abort.signal,
    });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new NetworkError(err instanceof Error ? err.message : String(err));
  }
  let payload = null;
  const text = await response.text().catch(() => '');
  if (text !== '') {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (response.status === 401) {
    const error = new Unauthorized(401, payload);
    // Only the session that sent the request may end it (a late answer of an old token must not).
    if (session.token === token) requireToken(\`flowstream refused the token: \${error.describe()}\`);
    throw error;
  }
  if (!response.ok) throw new ApiError(response.status, payload);
  return { body: payload, headers: response.headers };
}

const streamPath = (id, suffix = '') => \`/api/v1/logStreams/\${encodeURIComponent(id)}\${suffix}\`;

/** \`Link: <…>; rel="next"\` → the same-origin path to fetch next, or null. */
function nextLink(headers) {
  const link = headers.get('link');
  if (link === null) return null;
  const match = /<([^>]+)>\\s*;\\s*rel="next"/.exec(link);
  if (match === null) return null;
  const url = new URL(match[1], window.location.href);
  return \`\${url.pathname}\${url.search}\`;
}

async function listStreams() {
  const streams = [];
  let path = '/api/v1/logStreams?limit=200';
  for (let page = 0; path !== null && page < MAX_STREAM_PAGES; page++) {
    const { body, headers } = await api('GET', path);
    if (Array.isArray(body)) streams.push(...body);
    path = nextLink(headers);
  }
  return streams;
}

/** Runs \`task\` on each item with at most \`limit\` in flight; results (or errors) in item order. */
async function mapLimited(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { value: await task(items[index]) };
      } catch (err) {
        results[index] = { error: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------
// Sign-in.

function requireToken(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  endSession();
  showMessage(byId('token-reason'), reason);
  show(byId('token-overlay'), true);
  show(byId('forget-token'), false);
  setText(byId('connection'), 'Not signed in');
  byId('connection').dataset.state = 'signed-out';
  const input = byId('token-input');
  input.value = '';
  input.focus();
}

function endSession() {
  session.abort.abort();
  session = { token: null, id: session.id + 1, abort: new AbortController() };
}

function startSession(token) {
  endSession();
  session = { token, id: session.id, abort: new AbortController() };
  sessionStorage.setItem(TOKEN_KEY, token);
  show(byId('token-overlay'), false);
  show(byId('forget-token'), true);
  setConnection('connecting', 'Connecting…');
  resetTail();
  const current = session;
  void streamsLoop(current);
  void tailLoop(current);
  openDetailFromHash();
}

const isCurrent = (s) => s === session && s.token !== null;

function setConnection(state, text) {
  const node = byId('connection');
  node.dataset.state = state;
  setText(node, text);
}

/** Network trouble, shown in the banner until the next success of the same \`source\`. */
const failing = new Map();
function reportNetwork(source, error, retryMillis) {
  if (error === null) failing.delete(source);
  else failing.set(source, \`\${describeError(error)} Retrying in \${Math.round(retryMillis / 1000)} s.\`);
  const messages = [...new Set(failing.values())];
  showMessage(byId('banner'), messages.join(' '));
  if (messages.length > 0) setConnection('error', 'Connection problem');
  else if (session.token !== null) setConnection('live', 'Connected');
}

const retryDelay = (failures) => Math.min(RETRY_MAX_MILLIS, 1000 * 2 ** Math.max(0, failures - 1));

// ---------------------------------------------------------------------------------------------
// Log streams and their health.

/** id → { tr, cells, stream, health }; rows are updated in place so buttons survive refreshes. */
const streamRows = new Map();
let lastStreams = [];

async function refreshStreams() {
  const streams = await listStreams();
  const healths = await mapLimited(streams, HEALTH_CONCURRENCY, (s) =>
    api('GET', streamPath(s.id, '/health')).then((r) => r.body),
  );
  lastStreams = streams;
  renderStreams(streams, healths);
  setText(byId('streams-updated'), \`updated \${new Date().toLocaleTimeString()}\`);
  try {
    await refreshDetail(streams);
  } catch (err) {
    if (err instanceof Unauthorized || err instanceof NetworkError || err?.name === 'AbortError') throw err;
    // E.g. the stream was deleted meanwhile (404): the detail says so, the list goes on.
    showMessage(byId('detail-error'), describeError(err));
  }
}

/** Resolves when the tab is visible again (or the session ends). */
function visible(signal) {
  if (!document.hidden) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (document.hidden && !signal.aborted) return;
      document.removeEventListener('visibilitychange', done);
      resolve();
    };
    document.addEventListener('visibilitychange', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function streamsLoop(current) {
  let failures = 0;
  while (isCurrent(current)) {
    // A hidden tab does not poll health; the live tail keeps its single long poll.
    await visible(current.abort.signal);
    if (!isCurrent(current)) return;
    try {
      await refreshStreams();
      failures = 0;
      reportNetwork('streams', null);
      showMessage(byId('streams-error'), '');
    } catch (err) {
      if (!isCurrent(current) || err instanceof Unauthorized || err?.name === 'AbortError') return;
      if (err instanceof NetworkError) {
        failures++;
        reportNetwork('streams', err, retryDelay(failures));
        await sleep(retryDelay(failures), current.abort.signal);
        continue;
      }
      // 403 (scope or org) and the like: say so, keep trying (the token may be changed elsewhere).
      showMessage(byId('streams-error'), describeError(err));
    }
    await sleep(REFRESH_MILLIS, current.abort.signal);
  }
}

function createStreamRow(id) {
  const cells = {
    name: el('button', { type: 'button', class: 'link', dataset: { action: 'open' } }),
    id: el('div', { class: 'muted small mono' }),
    type: el('td'),
    org: el('td', { class: 'mono' }),
    status: el('span', { class: 'badge health' }),
    lag: el('td', { class: 'num', dataset: { field: 'lagEvents' } }),
    delivered: el('td', { class: 'num', dataset: { field: 'deliveredTotal' } }),
    dead: el('td', { class: 'num', dataset: { field: 'deadLetteredTotal' } }),
    failures: el('td', { class: 'num', dataset: { field: 'consecutiveFailures' } }),
    lastDelivered: el('td', { class: 'small', dataset: { field: 'lastDeliveredAt' } }),
    lastError: el('td', { class: 'error-cell small', dataset: { field: 'lastError' } }),
    lifecycle: el('button', { type: 'button', class: 'secondary', dataset: { action: 'lifecycle' } }),
    test: el('button', { type: 'button', class: 'secondary', dataset: { action: 'test' }, text: 'Test' }),
  };
  const tr = el(
    'tr',
    { dataset: { streamId: id } },
    el('td', {}, cells.name, cells.id),
    cells.type,
    cells.org,
    el('td', {}, cells.status),
    cells.lag,
    cells.delivered,
    cells.dead,
    cells.failures,
    cells.lastDelivered,
    cells.lastError,
    el('td', { class: 'actions' }, cells.lifecycle, cells.test),
  );
  const row = { tr, cells, stream: null, health: null };
  cells.name.addEventListener('click', () => {
    window.location.hash = \`#stream/\${encodeURIComponent(id)}\`;
  });
  cells.lifecycle.addEventListener('click', () => void lifecycle(row));
  cells.test.addEventListener('click', () => void testStream(row));
  return row;
}

function renderStreams(streams, healths) {
  const tbody = byId('streams-body');
  const seen = new Set();
  streams.forEach((stream, index) => {
    seen.add(stream.id);
    let row = streamRows.get(stream.id);
    if (row === undefined) {
      row = createStreamRow(stream.id);
      streamRows.set(stream.id, row);
    }
    const result = healths[index];
    updateStreamRow(row, stream, result?.value ?? null, result?.error);
    // Moves a row only when it is out of place (a moved node loses hover and focus).
    if (tbody.children[index] !== row.tr) tbody.insertBefore(row.tr, tbody.children[index] ?? null);
  });
  for (const [id, row] of streamRows) {
    if (!seen.has(id)) {
      row.tr.remove();
      streamRows.delete(id);
    }
  }
  show(byId('streams-empty'), streams.length === 0);
}

function updateStreamRow(row, stream, health, healthError) {
  row.stream = stream;
  row.health = health;
  const { cells } = row;
  setText(cells.name, stream.name);
  setText(cells.id, stream.id);
  setText(cells.type, stream.type);
  setText(cells.org, stream.org);
  // Health says more than the stored status (DEGRADED, PAUSED); without it, the stored status.
  setHealthBadge(cells.status, health?.status ?? stream.status);
  setText(cells.lag, formatCount(health?.lagEvents));
  setText(cells.delivered, formatCount(health?.deliveredTotal));
  setText(cells.dead, formatCount(health?.deadLetteredTotal));
  setText(cells.failures, formatCount(health?.consecutiveFailures));
  setText(cells.lastDelivered, formatTime(health?.lastDeliveredAt));
  const lastError = health?.lastError;
  const errorText = healthError
    ? \`health unavailable: \${describeError(healthError)}\`
    : lastError
      ? describeDeliveryError(lastError)
      : '';
  setText(cells.lastError, truncate(errorText, 160));
  if (cells.lastError.title !== errorText) cells.lastError.title = errorText;
  // Stored status decides the action: INACTIVE (admin) → Activate; PAUSED (failure policy) → Resume.
  const action = stream.status === 'ACTIVE' && health?.status !== 'PAUSED' ? 'deactivate' : 'activate';
  cells.lifecycle.dataset.lifecycle = action;
  setText(
    cells.lifecycle,
    action === 'deactivate' ? 'Deactivate' : health?.status === 'PAUSED' ? 'Resume' : 'Activate',
  );
}

function streamNotice(text, kind) {
  showMessage(byId('streams-notice'), text, kind);
}

async function withBusy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

async function lifecycle(row) {
  const action = row.cells.lifecycle.dataset.lifecycle;
  const name = row.stream?.name ?? row.tr.dataset.streamId;
  await withBusy(row.cells.lifecycle, async () => {
    try {
      const { body } = await api('POST', streamPath(row.tr.dataset.streamId, \`/lifecycle/\${action}\`));
      streamNotice(
        \`\${name}: \${action === 'activate' ? 'activated' : 'deactivated'} (status \${body?.status}).\`,
        'ok',
      );
      await refreshStreams().catch(() => undefined);
    } catch (err) {
      if (!(err instanceof Unauthorized))
        streamNotice(\`\${name}: \${action} failed: \${describeError(err)}\`, 'error');
    }
  });
}

/** \`HTTP 400 FS_X: message\`; a code that only repeats the status (\`HTTP_400\`) is left out. */
function describeDeliveryError(error) {
  const head = [];
  if (typeof error?.status === 'number') head.push(\`HTTP \${error.status}\`);
  if (error?.code && error.code !== \`HTTP_\${error.status}\`) head.push(error.code);
  const message = error?.message ?? '';
  return head.length === 0 ? message : \`\${head.join(' ')}: \${message}\`;
}

/** The destination's answer to a test event, in one sentence. */
function describeSendResult(result) {
  const parts = [result.outcome ?? 'unknown'];
  if (typeof result.bytes === 'number') parts.push(\`\${numbers.format(result.bytes)} bytes\`);
  const error = result.error;
  if (error) {
    parts.push(describeDeliveryError(error));
    if (error.response) parts.push(\`the destination answered: \${truncate(error.response, 300)}\`);
  }
  if (typeof result.retryAfterMillis === 'number') parts.push(\`retry after \${result.retryAfterMillis} ms\`);
  return parts.join(' — ');
}

async function testStream(row) {
  const name = row.stream?.name ?? row.tr.dataset.streamId;
  streamNotice(\`\${name}: sending a test event…\`, 'info');
  await withBusy(row.cells.test, async () => {
    try {
      const { body } = await api('POST', streamPath(row.tr.dataset.streamId, '/test'));
      streamNotice(\`Test of \${name}: \${describeSendResult(body ?? {})}\`, body?.ok ? 'ok' : 'error');
    } catch (err) {
      if (!(err instanceof Unauthorized))
        streamNotice(\`Test of \${name} failed: \${describeError(err)}\`, 'error');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Stream detail: settings, health warnings, dead letters.

let detailId = null;
let deadLetterSignature = '';

function openDetailFromHash() {
  const match = /^#stream\\/(.+)$/.exec(window.location.hash);
  let id = null;
  if (match !== null) {
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      id = null;
    }
  }
  detailId = id;
  deadLetterSignature = '';
  show(byId('detail'), id !== null);
  showMessage(byId('dead-letters-notice'), '');
  if (id !== null && session.token !== null) {
    setText(byId('detail-title'), \`Log stream \${id}\`);
    void refreshDetail(lastStreams).catch((err) => {
      if (!(err instanceof Unauthorized)) showMessage(byId('detail-error'), describeError(err));
    });
    byId('detail').scrollIntoView({ block: 'nearest' });
  }
}

async function refreshDetail(streams) {
  const id = detailId;
  if (id === null) return;
  const [streamAnswer, letters] = await Promise.all([
    streams.find((s) => s.id === id) ?? api('GET', streamPath(id)).then((r) => r.body),
    api('GET', streamPath(id, '/deadLetters?limit=100')).then((r) => r.body),
  ]);
  if (detailId !== id) return;
  const health = streamRows.get(id)?.health ?? null;
  renderDetail(streamAnswer, health);
  renderDeadLetters(id, letters);
  showMessage(byId('detail-error'), '');
}

function renderDetail(stream, health) {
  setText(byId('detail-title'), \`Log stream “\${stream.name}”\`);
  const facts = [
    ['Id', stream.id],
    ['Type', stream.type],
    ['Org', stream.org],
    ['Status', stream.status],
    ['Health', health?.status ?? '—'],
    ['Cursor', formatCount(health?.cursor)],
    ['Lag', health ? \`\${formatCount(health.lagEvents)} events, \${health.lagSeconds} s\` : '—'],
    ['Expired before delivery', formatCount(health?.expiredTotal)],
    ['Created', formatTime(stream.created)],
    ['Last updated', formatTime(stream.lastUpdated)],
  ];
  const dl = byId('detail-facts');
  const items = facts.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]);
  dl.replaceChildren(...items);
  const warnings = byId('detail-warnings');
  const list = Array.isArray(health?.warnings) ? health.warnings : [];
  warnings.replaceChildren(...list.map((w) => el('li', { text: w })));
  show(warnings, list.length > 0);
  setText(byId('detail-settings'), JSON.stringify(stream.settings ?? {}, null, 2));
  const { filter, format, transforms, delivery } = stream;
  setText(byId('detail-definition'), JSON.stringify({ filter, format, transforms, delivery }, null, 2));
}

function renderDeadLetters(id, page) {
  const items = Array.isArray(page?.items) ? page.items : [];
  const signature = JSON.stringify(items.map((d) => [d.id, d.attempts, d.lastFailedAt]));
  show(byId('dead-letters-empty'), items.length === 0);
  show(byId('redeliver-all'), items.length > 0);
  const more = byId('dead-letters-more');
  showMessage(more, page?.nextAfter === null ? '' : \`Showing the oldest \${items.length}; more are stored.\`);
  // Re-rendered only when the list changed, so a click is never lost to a refresh.
  if (signature === deadLetterSignature) return;
  deadLetterSignature = signature;
  const rows = items.map((d) => {
    const error = d.error ?? {};
    const refused = describeDeliveryError(error);
    const redeliver = el('button', { type: 'button', class: 'secondary', text: 'Redeliver' });
    redeliver.addEventListener('click', () => void redeliverDeadLetters(id, [d.id], redeliver));
    const eventText = JSON.stringify(d.event, null, 2);
    return el(
      'tr',
      { dataset: { deadLetterId: d.id } },
      el('td', { class: 'num', text: d.id }),
      el('td', { class: 'num', text: d.seq }),
      el('td', {}, typeBadge(d.eventType)),
      el('td', { class: 'mono small', text: d.executionId }),
      el(
        'td',
        { class: 'error-cell small' },
        el('div', { text: truncate(refused, 200), title: refused }),
        error.response
          ? el('div', { class: 'muted', text: truncate(\`answer: \${error.response}\`, 200) })
          : null,
        el('details', {}, el('summary', { text: 'event' }), el('pre', { class: 'json', text: eventText })),
      ),
      el('td', { class: 'num', text: d.attempts }),
      el('td', { class: 'small', text: formatTime(d.lastFailedAt) }),
      el('td', { class: 'actions' }, redeliver),
    );
  });
  byId('dead-letters-body').replaceChildren(...rows);
}

async function redeliverDeadLetters(id, ids, button) {
  const notice = byId('dead-letters-notice');
  await withBusy(button, async () => {
    try {
      const { body } = await api('POST', streamPath(id, '/deadLetters/redeliver'), {
        body: ids === undefined ? {} : { ids },
      });
      // \`remaining\` counts the requested dead letters that are still there (failed again, or not tried).
      const delivered = body?.delivered ?? 0;
      const remaining = body?.remaining ?? 0;
      const failed = (body?.results ?? []).filter((r) => r.outcome !== 'delivered');
      const why = failed
        .slice(0, 3)
        .map((r) => \`#\${r.id} \${r.outcome}\${r.error ? \` (\${describeDeliveryError(r.error)})\` : ''}\`)
        .join('; ');
      showMessage(
        notice,
        \`Redelivered \${delivered} of \${delivered + remaining}.\${remaining > 0 ? \` Still dead: \${remaining}.\` : ''}\${why ? \` \${why}\` : ''}\`,
        remaining === 0 ? 'ok' : 'error',
      );
      deadLetterSignature = '';
      await refreshStreams().catch(() => undefined);
    } catch (err) {
      if (!(err instanceof Unauthorized))
        showMessage(notice, \`Redelivery failed: \${describeError(err)}\`, 'error');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Live events: long polling \`GET /api/v1/events\` (see src/server/routes/events-tail.ts).

let tail = { abort: new AbortController(), rows: 0 };

function resetTail() {
  tail.abort.abort();
  tail = { abort: new AbortController(), rows: 0 };
  byId('events-body').replaceChildren();
  show(byId('events-empty'), true);
  setText(byId('events-count'), '');
}

function addEvents(events) {
  const tbody = byId('events-body');
  for (const item of events) {
    const event = item?.event ?? {};
    const tr = el(
      'tr',
      { dataset: { seq: item.seq, eventType: canonicalType(event.event_type) } },
      el('td', { class: 'small mono', text: formatTime(event.timestamp ?? item.ingestedAt) }),
      el('td', {}, typeBadge(event.event_type)),
      el('td', { text: event.flow_name ?? event.flow_id ?? '—', title: event.flow_id ?? '' }),
      el('td', { class: 'mono small', text: event.execution_id ?? '—' }),
      el('td', { class: 'small', text: event.org_name ?? event.org_id ?? '—', title: event.org_id ?? '' }),
      el('td', { class: 'num small', text: item.seq }),
    );
    // Newest first: each event (they arrive oldest first) goes on top.
    tbody.insertBefore(tr, tbody.firstChild);
  }
  while (tbody.children.length > TAIL_MAX_ROWS) tbody.lastElementChild.remove();
  tail.rows = tbody.children.length;
  show(byId('events-empty'), tail.rows === 0);
  setText(
    byId('events-count'),
    tail.rows === 0 ? '' : \`\${tail.rows} shown (newest first, at most \${TAIL_MAX_ROWS})\`,
  );
}

async function tailLoop(current) {
  const { abort } = tail;
  const signal = AbortSignal.any([abort.signal, current.abort.signal]);
  const eventType = byId('event-type').value;
  let after = String(-TAIL_BACKLOG);
  let failures = 0;
  setText(byId('tail-status'), 'connecting…');
  while (isCurrent(current) && !signal.aborted) {
    const query = new URLSearchParams({
      after,
      limit: String(TAIL_MAX_ROWS),
      waitMillis: String(TAIL_WAIT_MILLIS),
    });
    if (eventType !== '') query.set('eventType', eventType);
    try {
      const { body } = await api('GET', \`/api/v1/events?\${query}\`, { signal });
      if (signal.aborted) return;
      addEvents(Array.isArray(body?.events) ? body.events : []);
      if (typeof body?.next === 'number') after = String(body.next);
      failures = 0;
      reportNetwork('events', null);
      showMessage(byId('events-error'), '');
      setText(byId('tail-status'), eventType === '' ? 'live' : \`live, \${eventType} only\`);
    } catch (err) {
      if (signal.aborted || err instanceof Unauthorized || err?.name === 'AbortError') return;
      failures++;
      const delay = retryDelay(failures);
      if (err instanceof NetworkError) reportNetwork('events', err, delay);
      else showMessage(byId('events-error'), describeError(err));
      setText(byId('tail-status'), \`retrying in \${Math.round(delay / 1000)} s\`);
      await sleep(delay, signal);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring.

function init() {
  byId('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = byId('token-input').value.trim();
    if (token === '') {
      showMessage(byId('token-reason'), 'Enter a token.');
      return;
    }
    byId('token-input').value = '';
    showMessage(byId('token-reason'), '');
    startSession(token);
  });
  byId('forget-token').addEventListener('click', () => requireToken(''));
  byId('detail-close').addEventListener('click', () => {
    window.location.hash = '';
  });
  byId('redeliver-all').addEventListener('click', (e) => {
    if (detailId !== null) void redeliverDeadLetters(detailId, undefined, e.currentTarget);
  });
  byId('event-type').addEventListener('change', () => {
    if (session.token === null) return;
    resetTail();
    void tailLoop(session);
  });
  window.addEventListener('hashchange', openDetailFromHash);

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) startSession(saved);
  else requireToken('');
}

init();
`,
  'favicon.svg': `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><title>flowstream</title><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#5b8cff"/><stop offset="1" stop-color="#35d0a5"/></linearGradient></defs><rect width="32" height="32" rx="8" fill="url(#g)"/><path d="M8 11h16M8 16h11M8 21h7" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>
`,
  'index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>flowstream console</title>
    <link rel="icon" href="/console/favicon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/console/style.css" />
    <script type="module" src="/console/app.js"></script>
  </head>
  <body>
    <header class="top">
      <div class="brand"><span class="logo" aria-hidden="true"></span>flowstream <span class="muted">console</span></div>
      <div id="connection" class="connection" role="status" aria-live="polite">Not signed in</div>
      <button id="forget-token" type="button" class="secondary" hidden>Forget token</button>
    </header>

    <div id="banner" class="banner" role="alert" hidden></div>

    <main>
      <section id="streams-section" aria-labelledby="streams-title">
        <div class="section-head">
          <h2 id="streams-title">Log streams</h2>
          <span id="streams-updated" class="muted small"></span>
        </div>
        <p id="streams-notice" class="notice" role="status" aria-live="polite" hidden></p>
        <p id="streams-error" class="error" role="alert" hidden></p>
        <div class="table-wrap">
          <table id="streams">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Org</th>
                <th>Health</th>
                <th class="num" title="Events stored but not yet delivered">Lag</th>
                <th class="num">Delivered</th>
                <th class="num">Dead letters</th>
                <th class="num" title="Consecutive failures">Failures</th>
                <th>Last delivered</th>
                <th>Last error</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody id="streams-body"></tbody>
          </table>
        </div>
        <p id="streams-empty" class="muted" hidden>
          No log streams yet: create one with <code>flowstream streams add</code> or <code>POST /api/v1/logStreams</code>.
        </p>
      </section>

      <section id="detail" aria-labelledby="detail-title" hidden>
        <div class="section-head">
          <h2 id="detail-title">Log stream</h2>
          <button id="detail-close" type="button" class="secondary">Close</button>
        </div>
        <p id="detail-error" class="error" role="alert" hidden></p>
        <div class="detail-grid">
          <div>
            <h3>Stream</h3>
            <dl id="detail-facts" class="facts"></dl>
            <ul id="detail-warnings" class="warnings" hidden></ul>
          </div>
          <div>
            <h3>Settings <span class="muted small">(secrets are redacted by the API)</span></h3>
            <pre id="detail-settings" class="json"></pre>
            <h3>Filter, format and delivery</h3>
            <pre id="detail-definition" class="json"></pre>
          </div>
        </div>
        <div class="section-head">
          <h3 id="dead-letters-title">Dead letters</h3>
          <button id="redeliver-all" type="button" class="secondary" hidden>Redeliver all</button>
        </div>
        <p id="dead-letters-notice" class="notice" role="status" aria-live="polite" hidden></p>
        <div class="table-wrap">
          <table id="dead-letters">
            <thead>
              <tr>
                <th class="num">Id</th>
                <th class="num">Seq</th>
                <th>Event type</th>
                <th>Execution id</th>
                <th>Refused with</th>
                <th class="num">Attempts</th>
                <th>Last failed</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody id="dead-letters-body"></tbody>
          </table>
        </div>
        <p id="dead-letters-empty" class="muted" hidden>No dead letters: the destination has refused no event.</p>
        <p id="dead-letters-more" class="muted small" hidden></p>
      </section>

      <section id="events-section" aria-labelledby="events-title">
        <div class="section-head">
          <h2 id="events-title">Live events</h2>
          <label class="inline"
            >Event type
            <select id="event-type">
              <option value="">All</option>
              <option value="FLOW_START">FLOW_START</option>
              <option value="FLOW_COMPLETE">FLOW_COMPLETE</option>
              <option value="FLOW_FAIL">FLOW_FAIL</option>
              <option value="FLOW_CANCEL">FLOW_CANCEL</option>
              <option value="FLOW_PAUSE">FLOW_PAUSE</option>
              <option value="FLOW_RATE_LIMIT">FLOW_RATE_LIMIT</option>
              <option value="FLOW_THROTTLE">FLOW_THROTTLE</option>
            </select>
          </label>
          <span id="tail-status" class="muted small" role="status" aria-live="polite"></span>
          <span id="events-count" class="muted small"></span>
        </div>
        <p id="events-error" class="error" role="alert" hidden></p>
        <div class="table-wrap">
          <table id="events">
            <thead>
              <tr>
                <th>Timestamp</th>
                <th>Event type</th>
                <th>Flow</th>
                <th>Execution id</th>
                <th>Org</th>
                <th class="num">Seq</th>
              </tr>
            </thead>
            <tbody id="events-body"></tbody>
          </table>
        </div>
        <p id="events-empty" class="muted">Waiting for events…</p>
      </section>
    </main>

    <div id="token-overlay" class="overlay" hidden>
      <form id="token-form" class="card" autocomplete="off">
        <h2>Sign in to flowstream</h2>
        <p id="token-reason" class="error" role="alert" hidden></p>
        <label for="token-input">API token</label>
        <input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required />
        <button type="submit">Open console</button>
        <p class="muted small">
          A token with <code>streams:read</code> shows streams and events; <code>streams:write</code> also allows
          activate, deactivate, test and redeliver. The token stays in this browser tab only (sessionStorage) and is
          sent as <code>Authorization: Bearer</code>.
        </p>
      </form>
    </div>
  </body>
</html>
`,
  'style.css': `/* flowstream console. No inline styles anywhere (the CSP allows only this file). */

:root {
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1d2330;
  --muted: #677085;
  --line: #e2e5ec;
  --accent: #2f5bea;
  --ok: #1c7c4a;
  --ok-bg: #e3f5eb;
  --warn: #8a5a00;
  --warn-bg: #fff1d1;
  --bad: #b42318;
  --bad-bg: #fde7e5;
  --idle: #596275;
  --idle-bg: #eceef2;
  color-scheme: light;
}

* {
  box-sizing: border-box;
}

body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font:
    14px / 1.45 system-ui,
    -apple-system,
    "Segoe UI",
    Roboto,
    "Helvetica Neue",
    Arial,
    sans-serif;
}

code,
pre,
.mono {
  font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12.5px;
}

.small {
  font-size: 12px;
}

.muted {
  color: var(--muted);
}

button {
  font: inherit;
  cursor: pointer;
  border-radius: 6px;
  border: 1px solid var(--accent);
  background: var(--accent);
  color: #fff;
  padding: 5px 12px;
}

button.secondary {
  background: #fff;
  color: var(--accent);
  border-color: #c5d0f5;
  padding: 3px 10px;
}

button.secondary:hover {
  background: #eef2ff;
}

button:disabled {
  opacity: 0.55;
  cursor: progress;
}

button.link {
  border: 0;
  background: none;
  padding: 0;
  color: var(--accent);
  font-weight: 600;
  text-align: left;
}

button.link:hover {
  text-decoration: underline;
}

.top {
  display: flex;
  align-items: center;
  gap: 16px;
  padding: 10px 24px;
  background: #141a2a;
  color: #f2f4f8;
}

.brand {
  font-weight: 650;
  font-size: 17px;
  display: flex;
  align-items: center;
  gap: 8px;
}

.brand .muted {
  color: #9aa4bd;
  font-weight: 400;
}

.logo {
  width: 18px;
  height: 18px;
  border-radius: 5px;
  background: linear-gradient(135deg, #5b8cff, #35d0a5);
}

.connection {
  margin-left: auto;
  font-size: 12px;
  padding: 3px 10px;
  border-radius: 999px;
  background: #2a3247;
}

.connection[data-state="live"] {
  background: #1f5b3f;
}

.connection[data-state="error"] {
  background: #7a1d16;
}

.banner {
  padding: 10px 24px;
  background: var(--bad-bg);
  color: var(--bad);
  border-bottom: 1px solid #f5c2bd;
}

main {
  padding: 16px 24px 40px;
  display: grid;
  gap: 16px;
}

section {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 10px;
  padding: 14px 16px;
  min-width: 0;
}

h2 {
  font-size: 16px;
}

h3 {
  font-size: 13px;
  margin: 14px 0 6px;
  text-transform: uppercase;
  letter-spacing: 0.04em;
  color: var(--muted);
}

.section-head {
  display: flex;
  align-items: center;
  gap: 12px;
  flex-wrap: wrap;
  margin-bottom: 8px;
}

.section-head h2,
.section-head h3 {
  margin: 0;
}

.section-head button {
  margin-left: auto;
}

.table-wrap {
  overflow-x: auto;
}

table {
  width: 100%;
  border-collapse: collapse;
}

th,
td {
  text-align: left;
  padding: 6px 8px;
  border-bottom: 1px solid var(--line);
  vertical-align: top;
}

th {
  font-size: 12px;
  font-weight: 600;
  color: var(--muted);
  white-space: nowrap;
}

tbody tr:hover {
  background: #f9fafc;
}

.num {
  text-align: right;
  font-variant-numeric: tabular-nums;
}

.actions {
  white-space: nowrap;
}

.actions button + button {
  margin-left: 6px;
}

.error-cell {
  color: var(--bad);
  max-width: 360px;
  overflow-wrap: anywhere;
}

.top button.secondary {
  background: transparent;
  color: #dfe5f5;
  border-color: #4a5675;
}

.badge {
  display: inline-block;
  padding: 1px 8px;
  border-radius: 999px;
  font-size: 11.5px;
  font-weight: 650;
  letter-spacing: 0.02em;
  white-space: nowrap;
}

.health-active {
  color: var(--ok);
  background: var(--ok-bg);
}

.health-degraded {
  color: var(--warn);
  background: var(--warn-bg);
}

.health-paused {
  color: var(--bad);
  background: var(--bad-bg);
}

.health-inactive,
.health-unknown {
  color: var(--idle);
  background: var(--idle-bg);
}

.type-flow-start {
  color: #1d4ed8;
  background: #e0e9ff;
}

.type-flow-complete {
  color: var(--ok);
  background: var(--ok-bg);
}

.type-flow-fail {
  color: var(--bad);
  background: var(--bad-bg);
}

.type-flow-cancel {
  color: var(--idle);
  background: var(--idle-bg);
}

.type-flow-pause {
  color: #6d28d9;
  background: #efe5ff;
}

.type-flow-rate-limit {
  color: #b45309;
  background: #ffedd5;
}

.type-flow-throttle {
  color: var(--warn);
  background: var(--warn-bg);
}

.type-other {
  color: var(--text);
  background: var(--idle-bg);
}

.notice,
.error {
  margin: 6px 0 10px;
  padding: 8px 10px;
  border-radius: 6px;
  overflow-wrap: anywhere;
}

.notice {
  background: #eef2ff;
  color: #243b8a;
}

.notice[data-kind="ok"] {
  background: var(--ok-bg);
  color: var(--ok);
}

.notice[data-kind="error"],
.error {
  background: var(--bad-bg);
  color: var(--bad);
}

.detail-grid {
  display: grid;
  grid-template-columns: minmax(260px, 1fr) 2fr;
  gap: 20px;
}

.facts {
  display: grid;
  grid-template-columns: max-content 1fr;
  gap: 4px 12px;
  margin: 0;
}

.facts dt {
  color: var(--muted);
}

.facts dd {
  margin: 0;
  overflow-wrap: anywhere;
}

.warnings {
  margin: 10px 0 0;
  padding: 8px 10px 8px 26px;
  background: var(--warn-bg);
  color: var(--warn);
  border-radius: 6px;
}

pre.json {
  margin: 0;
  padding: 8px 10px;
  background: #f3f4f7;
  border-radius: 6px;
  max-height: 280px;
  overflow: auto;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}

details summary {
  cursor: pointer;
  color: var(--accent);
}

label.inline {
  display: flex;
  align-items: center;
  gap: 6px;
  color: var(--muted);
}

select,
input {
  font: inherit;
  padding: 4px 8px;
  border: 1px solid #c9cfdb;
  border-radius: 6px;
  background: #fff;
}

.overlay {
  position: fixed;
  inset: 0;
  background: rgba(15, 20, 35, 0.55);
  display: flex;
  align-items: center;
  justify-content: center;
  padding: 16px;
}

.card {
  background: var(--panel);
  border-radius: 12px;
  padding: 22px 24px;
  width: min(440px, 100%);
  display: grid;
  gap: 10px;
  box-shadow: 0 18px 50px rgba(0, 0, 0, 0.3);
}

.card h2 {
  margin: 0 0 4px;
}

.card input {
  width: 100%;
  padding: 8px 10px;
}

@media (max-width: 860px) {
  .detail-grid {
    grid-template-columns: 1fr;
  }
}

/* Last, so that it wins over the display of any class of the same specificity (.overlay, .card). */
[hidden] {
  display: none;
}
`,
});
