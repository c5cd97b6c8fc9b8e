// Batch.jsx follows a batch of games uploaded at once: each game's review with its
// progress and a link, and each file that could not be read with its reason. The batch
// is kept in this browser (localStorage), so its address survives a reload.
import { useEffect, useState } from 'preact/hooks';
import { getAnalysis } from './api.js';
import { progressWords } from './Upload.jsx';

const FINAL = ['done', 'failed', 'cancelled'];

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

export function Batch({ id, state, onOpen, onHome }) {
  const [games] = useState(() => loadBatch(id, state));
  const [progress, setProgress] = useState({}); // id -> {status, and the API's progress}

  useEffect(() => {
    if (!games) return;
    let gone = false;
    let timer = 0;
    const poll = async () => {
      const next = {};
      await Promise.all(games.filter((g) => g.id).map(async (g) => {
        try {
          const r = await getAnalysis(g.id);
          next[g.id] = { status: r.status, ...r.progress };
        } catch (e) {
          next[g.id] = { status: 'failed', error: e.message, done: 0, total: g.turns, percent: 0 };
        }
      }));
      if (gone) return;
      setProgress(next);
      if (Object.values(next).some((p) => !FINAL.includes(p.status))) timer = setTimeout(poll, 1000);
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
