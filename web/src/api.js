// api.js talks to the tesuji API of the page's own origin and turns its errors into
// messages a player can act on.

const BASE = '/api/v1/analyses';

// token is the API token for servers that require one. A link with ?token=... sets it: it
// is kept in this browser, so review links work without it, and taken out of the address,
// which the history and any link copied from the address bar would keep. It goes out as a
// bearer token, and as a query parameter only where the browser cannot set headers
// (EventSource).
export const token = (() => {
  try {
    const params = new URLSearchParams(window.location.search);
    const fromURL = params.get('token');
    if (fromURL) {
      localStorage.setItem('tesuji-token', fromURL);
      params.delete('token');
      const qs = params.toString();
      history.replaceState(history.state, '', `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`);
      return fromURL;
    }
    return localStorage.getItem('tesuji-token') || '';
  } catch {
    return '';
  }
})();

const withToken = (url) => (token ? `${url}?token=${encodeURIComponent(token)}` : url);

// ApiError is a failed request: status, the API's error code and a readable message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// explain writes the message a player sees for an API error.
export function explain(status, code, message) {
  switch (code) {
    case 'invalid_sgf':
      return `This file cannot be read: ${message}`;
    case 'illegal_move':
      return `The game contains an illegal move: ${message}`;
    case 'invalid_variation':
      return `That move cannot be played here: ${message}`;
    case 'invalid_zip':
      return `The archive cannot be read: ${message}`;
    case 'too_many_games':
      return `Too many games at once: ${message}`;
    case 'too_large':
      return `The file is too large: ${message}`;
    case 'too_many_moves':
      return `The game is too long: ${message}`;
    case 'unsupported':
      return `tesuji cannot analyze this game: ${message}`;
    case 'invalid_visits':
      return `Check the number of visits: ${message}`;
    case 'not_found':
      return 'There is no analysis at this address. It may have expired, or the link is incomplete.';
    case 'cancelled':
      return 'This analysis was cancelled.';
    case 'unauthorized':
    case 'token_invalid':
    case 'token_revoked':
      return 'This server needs an API token: open the page as /?token=YOUR_TOKEN (ask its operator for one).';
  }
  if (status === 401) return 'This server needs an API token: open the page as /?token=YOUR_TOKEN (ask its operator for one).';
  if (status === 413) return `The file is too large${message ? `: ${message}` : '.'}`;
  if (status === 429) return 'The server is busy with other analyses. Try again in a minute.';
  if (status === 503 || code === 'unavailable')
    return 'The server is busy or restarting. Try again in a few seconds.';
  if (status >= 500) return 'The server ran into an error. Try again; if it persists, tell its operator.';
  return message || `The request failed (HTTP ${status}).`;
}

async function failure(res) {
  let code = '';
  let message = '';
  try {
    const body = await res.json();
    code = body.error?.code || '';
    message = body.error?.message || '';
  } catch {
    // A proxy's HTML error page: the status says enough.
  }
  return new ApiError(res.status, code, explain(res.status, code, message));
}

// request sends an API request and returns its JSON answer (null for 204 No Content).
export async function request(url, init) {
  let res;
  try {
    const headers = new Headers(init?.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    res = await fetch(url, { ...init, headers });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return res.json();
}

// options adds the review's settings to an upload's form.
function options(body, { maxVisits, adaptive, includeOwnership }) {
  if (maxVisits) body.append('maxVisits', String(maxVisits));
  if (adaptive) body.append('adaptive', 'true');
  body.append('includeOwnership', includeOwnership ? 'true' : 'false');
}

// submit uploads an SGF (a File or text) and returns the API's 202 answer.
export function submit({ sgf, name, ...settings }) {
  const body = new FormData();
  const file = typeof sgf === 'string' ? new Blob([sgf], { type: 'application/x-go-sgf' }) : sgf;
  body.append('sgf', file, name || 'game.sgf');
  options(body, settings);
  return request(BASE, { method: 'POST', body });
}

// submitBatch uploads several files (or a zip) at once and returns the API's batch
// answer: each game's review or its reason. A batch nobody could queue is no failure of
// the request: its reasons are what the page shows.
export async function submitBatch({ files, ...settings }) {
  const body = new FormData();
  for (const f of files) body.append('sgf', f, f.name);
  options(body, settings);
  let res;
  try {
    const headers = new Headers();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    res = await fetch(BASE, { method: 'POST', body, headers });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (res.ok || res.status === 400) {
    const b = await res.clone().json().catch(() => null);
    if (b && Array.isArray(b.batch)) {
      for (const g of b.batch) if (g.error) g.reason = explain(400, g.error.code, g.error.message);
      return b;
    }
  }
  throw await failure(res);
}

// getInfo reads the service's limits and measured speed; null when it cannot.
export const getInfo = () => request('/api/v1/info').catch(() => null);

export const getVariations = (id) => request(`${BASE}/${encodeURIComponent(id)}/variations`);

export const putVariations = (id, variations) =>
  request(`${BASE}/${encodeURIComponent(id)}/variations`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ variations }),
  });

// analyzePosition asks KataGo about one position at interactive priority, streamed:
// onReport gets each partial report and then the final one (final = true). It resolves
// with the final turn; abort the signal to stop the search.
export async function analyzePosition(query, onReport, signal) {
  let res;
  try {
    const headers = new Headers({ 'Content-Type': 'application/json' });
    if (token) headers.set('Authorization', `Bearer ${token}`);
    res = await fetch('/api/v1/positions', { method: 'POST', headers, body: JSON.stringify({ ...query, stream: true }), signal });
  } catch (e) {
    if (signal && signal.aborted) throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let type = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) type = line.slice(7);
        else if (line.startsWith('data: ')) data += (data ? '\n' : '') + line.slice(6);
      }
      if (type === 'partial') onReport(JSON.parse(data), false);
      else if (type === 'turn') {
        const t = JSON.parse(data);
        onReport(t, true);
        reader.cancel().catch(() => {});
        return t;
      } else if (type === 'failed' || type === 'error') {
        throw new ApiError(500, 'analysis_failed', 'KataGo could not analyze this position. Try again.');
      } else if (type === 'cancelled') {
        throw new ApiError(410, 'cancelled', 'The analysis of this position was cancelled.');
      }
    }
  }
  throw new ApiError(0, 'network', 'The connection closed before KataGo finished.');
}

export const getAnalysis = (id) => request(`${BASE}/${encodeURIComponent(id)}`);

// cancelAnalysis stops a review; one that finished meanwhile is kept (409 already_finished).
export const cancelAnalysis = (id) =>
  request(`${BASE}/${encodeURIComponent(id)}?cancel=true`, { method: 'DELETE' });

export const eventsURL = (id) => withToken(`${BASE}/${encodeURIComponent(id)}/events`);

// sgfURL is the address of a review's annotated SGF, without the token: on a server that
// needs one, downloadSGF fetches it.
export const sgfURL = (id) => `${BASE}/${encodeURIComponent(id)}/sgf`;

// fileName reads the file name of a Content-Disposition header: filename* (RFC 5987, a
// name outside ASCII) before filename; fallback when it names none.
export function fileName(header, fallback) {
  const star = /filename\*\s*=\s*[^']*'[^']*'([^;\s]+)/i.exec(header || '');
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // A malformed escape: the plain filename, if any.
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header || '');
  if (plain) return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2];
  return fallback;
}

// downloadSGF saves a review's annotated SGF under the name the server gives it. It is
// fetched with the token in a header, so that the token is in no address.
export async function downloadSGF(id) {
  let res;
  try {
    const headers = new Headers();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    res = await fetch(sgfURL(id), { headers });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) throw await failure(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName(res.headers.get('Content-Disposition'), `tesuji-${id}.sgf`);
  document.body.append(a);
  a.click();
  a.remove();
  // The browser reads the file after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// explainJobError words the error of a failed analysis.
export function explainJobError(err) {
  return `The analysis failed: ${err || 'the engine gave up on this game'}.`;
}
