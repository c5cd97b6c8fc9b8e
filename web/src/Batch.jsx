// Batch.jsx follows a batch of games uploaded at once: each game's review with its
// progress and a link, and each file that could not be read with its reason. The batch
// is kept in this browser (localStorage), so its address survives a reload.
import { useEffect, useState } from 'preact/hooks';
import { getAnalysis } from './api.js';
import { listAnalyses } from './library.js';
import { progressWords } from './Upload.jsx';

const FINAL = ['done', 'failed', 'cancelled'];
const POLL = 1000; // ms between readings of the reviews' progress
const MAX_WAIT = 30000; // the longest wait after failed readings
const LIST_PAGES = 5; // library pages read before asking for a review alone

export function saveBatch(res) {
  const key = Math.random().toString(36).slice(2, 10);
  try {
    localStorage.setItem(`tesuji-batch-${key}`, JSON.stringify(res.batch));
  } catch {
    // Private mode: the batch lives as long as the page.
  }
  return { key, batch: res.batch };
}

function loadBatch(key, state) {
  if (state && state.batch) return state.batch;
  try {
    return JSON.parse(localStorage.getItem(`tesuji-batch-${key}`)) || null;
  } catch {
    return null;
  }
}

// readProgress reads the status and progress of the batch's reviews still to follow from
// the library, a page of small entries, newest first, as the batch's reviews are. A review
// the pages read do not hold (deleted, expired, or uploaded long before the others) is
// asked for alone; only its 404 is final. Any other failure throws, and the caller tries
// again.
async function readProgress(ids) {
  const want = new Set(ids);
  const found = {};
  let cursor = '';
  for (let page = 0; page < LIST_PAGES && want.size > 0; page++) {
    const list = await listAnalyses({ cursor, limit: Math.min(500, want.size + 10) });
    for (const a of list.analyses) {
      if (want.delete(a.id)) found[a.id] = { status: a.status, ...a.progress };
    }
    if (!list.next) break;
    cursor = list.next;
  }
  for (const id of want) {
    try {
      const r = await getAnalysis(id);
      found[id] = { status: r.status, ...r.progress };
    } catch (e) {
      if (e.status !== 404) throw e;
      found[id] = { status: 'failed', error: e.message, done: 0, total: 0, percent: 0 };
    }
  }
  return found;
}

export function Batch({ id, state, onOpen, onHome }) {
  const [games] = useState(() => loadBatch(id, state));
  const [progress, setProgress] = useState({}); // id -> {status, and the API's progress}
  const [trouble, setTrouble] = useState(''); // why the last reading failed

  // Follow the reviews until each is final. A failed reading (the server restarting, busy
  // or out of reach) keeps what was shown and tries again, waiting longer each time.
  useEffect(() => {
    if (!games) return;
    let gone = false;
    let timer = 0;
    let wait = POLL;
    let shown = {};
    const poll = async () => {
      const open = games.filter((g) => g.id && !FINAL.includes(shown[g.id]?.status)).map((g) => g.id);
      try {
        const read = await readProgress(open);
        if (gone) return;
        shown = { ...shown, ...read };
        setProgress(shown);
        setTrouble('');
        wait = POLL;
      } catch (e) {
        if (gone) return;
        setTrouble(e.message);
        wait = Math.min(wait * 2, MAX_WAIT);
      }
      if (games.some((g) => g.id && !FINAL.includes(shown[g.id]?.status))) timer = setTimeout(poll, wait);
    };
    poll();
    return () => { gone = true; clearTimeout(timer); };
  }, [games]);

  if (!games) {
    return (
      <main class="review"><p class="error" role="alert">This batch is not known in this browser. Upload the games again.</p></main>
    );
  }
  const good = games.filter((g) => g.id);
  const bad = games.filter((g) => !g.id);
  const finished = good.filter((g) => progress[g.id] && FINAL.includes(progress[g.id].status)).length;
  return (
    <main class="review batch">
      <h1>{games.length} games uploaded</h1>
      <p id="batch-summary">
        {good.length} {good.length === 1 ? 'review' : 'reviews'}: {finished} finished
        {bad.length ? ` · ${bad.length} ${bad.length === 1 ? 'file' : 'files'} could not be read` : ''}
      </p>
      {trouble && (
        <p class="notice" id="batch-notice" role="status" title={trouble}>
          The progress cannot be read just now; this page keeps asking. The reviews go on on the server.
        </p>
      )}
      <ol id="batch">
        {games.map((g, i) => {
          const p = g.id && progress[g.id];
          const pc = p ? p.percent : 0;
          return (
            <li key={i} class={g.id ? 'ok' : 'bad'} data-status={p ? p.status : g.id ? 'queued' : 'error'}>
              <span class="name">
                {g.id ? (
                  <a href={`/review/${g.id}`} onClick={(e) => { e.preventDefault(); onOpen(g.id); }}>{g.name}</a>
                ) : (
                  <strong>{g.name}</strong>
                )}
              </span>
              {g.id ? (
                <span class="state">
                  <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow={pc}>
                    <div style={{ width: `${pc}%` }} />
                  </div>
                  <small class="muted">
                    {!p && 'Queued'}
                    {p && p.status === 'queued' && 'Waiting for a free engine…'}
                    {p && p.status === 'running' && progressWords(p)}
                    {p && p.status === 'done' && 'Review complete'}
                    {p && p.status === 'failed' && (p.error || 'The analysis failed')}
                    {p && p.status === 'cancelled' && 'Cancelled'}
                  </small>
                </span>
              ) : (
                <span class="why">{g.reason || (g.error && g.error.message)}</span>
              )}
            </li>
          );
        })}
      </ol>
      <p class="again"><a href="/" onClick={(e) => { e.preventDefault(); onHome(); }}>Upload more games</a></p>
    </main>
  );
}
