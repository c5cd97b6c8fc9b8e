// Library.jsx is the list of the player's reviews under the upload card: players, date,
// result, status (with the progress of a review still running), open and delete. Each name
// leads to the player's page.
import { useEffect, useRef, useState } from 'preact/hooks';
import { cancelAnalysis } from './api.js';
import { deleteAnalysis, gameDate, listAnalyses, playerPath } from './library.js';
import './library.css';
import { progressWords } from './Upload.jsx';

const LIVE = ['queued', 'running'];
const PAGE = 20;

const STATUS = {
  queued: 'Queued',
  running: 'Analyzing',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

// Link is an address inside the page: a click moves there without a reload.
export function Link({ href, go, children, ...rest }) {
  return (
    <a
      href={href}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        go(href);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}

// Name is a player's name linking to their page; an empty one reads as the colour.
function Name({ name, rank, fallback, go }) {
  if (!name) return <span class="muted">{fallback}</span>;
  return (
    <span class="pname">
      <Link href={playerPath(name)} go={go} class="player-link">{name}</Link>
      {rank && <span class="rank"> {rank}</span>}
    </span>
  );
}

function Entry({ a, go, onDeleted, onFinished, onError }) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const live = LIVE.includes(a.status);
  const pct = a.progress.percent || 0;

  // remove stops a live review, or deletes a finished one. Stop only ever cancels: a
  // review that finished while the player confirmed is kept (409), and the list is read
  // again to show it done.
  async function remove() {
    setBusy(true);
    try {
      await (live ? cancelAnalysis(a.id) : deleteAnalysis(a.id));
      onDeleted(a.id, live);
    } catch (e) {
      if (live && e.code === 'already_finished') onFinished();
      else onError(e.message);
    }
    setBusy(false);
    setConfirm(false);
  }

  return (
    <li class={`lib-entry s-${a.status}`} data-id={a.id}>
      <div class="lib-players">
        <span class="pside"><span class="stone sb" aria-label="Black" /><Name name={a.black} rank={a.blackRank} fallback="Black" go={go} /></span>
        <span class="vs">vs</span>
        <span class="pside"><span class="stone sw" aria-label="White" /><Name name={a.white} rank={a.whiteRank} fallback="White" go={go} /></span>
      </div>
      <div class="lib-meta muted">
        <span class="lib-date">{gameDate(a)}</span>
        {a.result && <span class="lib-result">{a.result}</span>}
        <span>{a.boardXSize && a.boardXSize === a.boardYSize ? `${a.boardXSize}×${a.boardXSize}` : `${a.boardXSize}×${a.boardYSize}`}</span>
        <span>{a.moves} moves</span>
      </div>
      <div class="lib-status">
        <span class={`lib-badge b-${a.status}`}>{STATUS[a.status] || a.status}</span>
        {(live || (a.status !== 'done' && a.progress.done > 0)) && (
          <span class="lib-progress" title={progressWords(a.progress)}>
            <span class="lib-bar"><span style={{ width: `${pct}%` }} /></span>
            <span class="lib-pct">{pct}%</span>
          </span>
        )}
      </div>
      <div class="lib-actions">
        <Link href={a.links.review} go={go} class="button lib-open">Open</Link>
        {confirm ? (
          <>
            <button class="danger lib-confirm" disabled={busy} onClick={remove}>{live ? 'Stop it' : 'Delete'}</button>
            <button class="lib-keep" onClick={() => setConfirm(false)}>Keep</button>
          </>
        ) : (
          <button class="lib-delete" onClick={() => setConfirm(true)} title={live ? 'Stop this review' : 'Delete this review'}>
            {live ? 'Stop' : 'Delete'}
          </button>
        )}
      </div>
    </li>
  );
}

// REFRESH is the wait between readings of the list while a review is live, in ms; a
// failed reading waits twice as long as the last, up to MAX_RETRY.
const REFRESH = 1500;
const MAX_RETRY = 30000;

export function Library({ go }) {
  const [player, setPlayer] = useState('');
  const [list, setList] = useState(null); // { analyses, next }
  const [error, setError] = useState('');
  const [reads, setReads] = useState(0); // bumped to read the list again
  const shown = useRef(PAGE);
  const filtered = useRef(player);

  // Load the first page for the filter, and refresh it while a review is live. A reading
  // that fails for a while (the server restarting, busy or out of reach) keeps the list
  // shown and tries again, waiting longer each time.
  useEffect(() => {
    let gone = false;
    let timer = 0;
    let retry = REFRESH;
    const load = async () => {
      try {
        const page = await listAnalyses({ player: player.trim(), limit: Math.min(500, shown.current) });
        if (gone) return;
        setList(page);
        setError('');
        retry = REFRESH;
        if (page.analyses.some((a) => LIVE.includes(a.status))) timer = setTimeout(load, REFRESH);
      } catch (e) {
        if (gone) return;
        setError(e.message);
        if (e.status === 0 || e.status === 429 || e.status >= 500) {
          retry = Math.min(retry * 2, MAX_RETRY);
          timer = setTimeout(load, retry);
        }
      }
    };
    // A new filter waits for the player to stop typing.
    const wait = setTimeout(load, player !== filtered.current ? 250 : 0);
    filtered.current = player;
    return () => {
      gone = true;
      clearTimeout(wait);
      clearTimeout(timer);
    };
  }, [player, reads]);

  async function more() {
    try {
      const page = await listAnalyses({ player: player.trim(), cursor: list.next, limit: PAGE });
      shown.current = list.analyses.length + page.analyses.length;
      setList({ analyses: [...list.analyses, ...page.analyses], next: page.next });
    } catch (e) {
      setError(e.message);
    }
  }

  function deleted(id, wasLive) {
    setList((l) => ({
      ...l,
      analyses: wasLive
        ? l.analyses.map((a) => (a.id === id ? { ...a, status: 'cancelled' } : a))
        : l.analyses.filter((a) => a.id !== id),
    }));
  }

  if (list === null && !error) return null;
  const empty = list && list.analyses.length === 0;
  return (
    <section class="card library" id="library">
      <div class="lib-head">
        <h2>Your reviews</h2>
        {list && (list.analyses.length > 0 || player) && (
          <input
            id="library-filter"
            type="search"
            placeholder="Filter by player"
            value={player}
            onInput={(e) => setPlayer(e.currentTarget.value)}
          />
        )}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {empty && !player && <p class="muted lib-empty">No reviews yet: the games you upload are kept here.</p>}
      {empty && player && <p class="muted lib-empty">No reviews with a player matching “{player}”.</p>}
      {list && list.analyses.length > 0 && (
        <ul class="lib-list" id="library-list">
          {list.analyses.map((a) => (
            <Entry key={a.id} a={a} go={go} onDeleted={deleted} onFinished={() => setReads((n) => n + 1)} onError={setError} />
          ))}
        </ul>
      )}
      {list && list.next && (
        <button class="lib-more" onClick={more}>Show more</button>
      )}
    </section>
  );
}
