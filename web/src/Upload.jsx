// Upload.jsx is the form that starts a review: an SGF by drag and drop, file picker or
// pasted text, and how deep KataGo should read.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getInfo, submit, submitBatch } from './api.js';

// PRESETS are visits per position. Smart, the default, is an adaptive review: every
// position at three tenths of its visits, then the moves that quick look is least sure of
// again at its visits.
// Quick is enough to spot blunders; deep approaches what KaTrain and Lizzie users run for
// a careful review.
export const PRESETS = [
  { name: 'smart', label: 'Smart', visits: 500, adaptive: true },
  { name: 'quick', label: 'Quick', visits: 100, hint: 'blunders, in seconds' },
  { name: 'normal', label: 'Normal', visits: 500, hint: 'a solid review' },
  { name: 'deep', label: 'Deep', visits: 2000, hint: 'careful, takes longer' },
];

const isZip = (f) => /\.zip$/i.test(f.name) || f.type === 'application/zip';

// countMoves estimates a record's moves from its text: SGF move properties, or the move
// lines of Tygem and WBaduk records.
export function countMoves(text) {
  const sgf = text.match(/[;\s\]](B|W)\[/g);
  if (sgf) return sgf.length;
  const gib = text.match(/^STO /gm);
  if (gib) return gib.length;
  const ngf = text.match(/^PM[A-Z]{2}/gm);
  return ngf ? ngf.length : 0;
}

// quickVisits is the visits of an adaptive review's quick pass, as the worker's
// QuickVisits: three tenths of maxVisits, at least 16.
export const quickVisits = (maxVisits) => Math.max(16, Math.floor((maxVisits * 3) / 10));

// deepBudget is how many of `positions` positions an adaptive review at maxVisits searches
// again at maxVisits, as analysis.DeepBudget: what the 40% leaves after the quick pass.
export function deepBudget(positions, maxVisits) {
  return Math.max(0, Math.floor((positions * (2 * maxVisits - 5 * quickVisits(maxVisits))) / (5 * maxVisits)));
}

// isSmart tells whether an adaptive review at maxVisits is one (analysis.Spec.IsAdaptive):
// below 64 visits (analysis.MinAdaptiveVisits) it searches every position alike.
const isSmart = (maxVisits, adaptive) => !!adaptive && maxVisits >= 64;

// plannedVisits is the most visits a review of `positions` positions spends, as the
// analysis.Spec.PlannedVisits: every position at maxVisits, or for an adaptive review every
// position at the quick visits and as many again at maxVisits as keep the whole within 40%
// of a uniform review (analysis.DeepBudget).
export function plannedVisits(positions, maxVisits, adaptive) {
  if (!isSmart(maxVisits, adaptive)) return positions * maxVisits;
  return positions * quickVisits(maxVisits) + deepBudget(positions, maxVisits) * maxVisits;
}

// reviewProgress counts a review's progress from its turns (an array by turn number, with
// holes for those not analyzed yet) as the API's progress does: done of total positions,
// of an adaptive review deepDone of the deepTotal it searches again, and the percent of
// the visits it plans (analysis.Spec.Percent), so that the quick pass is not the whole.
export function reviewProgress(turns, total, maxVisits, adaptive) {
  const smart = isSmart(maxVisits, adaptive);
  const done = turns.filter(Boolean).length;
  const deepTotal = smart ? deepBudget(total, maxVisits) : 0;
  const deepDone = smart ? turns.filter((t) => t && t.visitsSpent > t.visits).length : 0;
  const work = Math.min(done, total) * (smart ? quickVisits(maxVisits) : maxVisits) + Math.min(deepDone, deepTotal) * maxVisits;
  const planned = plannedVisits(total, maxVisits, smart);
  return { done, total, deepDone, deepTotal, percent: planned ? Math.floor((work * 100) / planned) : 0 };
}

// progressWords says what a running review is reading, from its progress.
export function progressWords(p) {
  if (!p.deepTotal) return `${p.done} of ${p.total} positions`;
  if (p.done < p.total) return `a quick look at ${p.done} of ${p.total} positions`;
  return `deeper on the moves in doubt, ${p.deepDone || 0} of ${p.deepTotal} positions`;
}

// eta words the time `visits` visits take at the service's measured speed.
export function eta(visits, speed) {
  if (!speed || !visits) return '';
  const s = visits / speed;
  if (s < 60) return `about ${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `about ${Math.round(s / 60)} min`;
  return `about ${(s / 3600).toFixed(1)} h`;
}

export function Upload({ onCreated, onBatch }) {
  const [file, setFile] = useState(null);
  const [files, setFiles] = useState([]); // a batch: several files, or a zip
  const [info, setInfo] = useState(null);
  const [moves, setMoves] = useState(0);
  const [text, setText] = useState('');
  const [preset, setPreset] = useState('smart');
  const [exact, setExact] = useState('');
  const [ownership, setOwnership] = useState(true);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const picker = useRef(null);

  // estimate words how long this game (or batch) takes with the given preset.
  const estimate = (p) => {
    if (!info) return '';
    if (!info.visitsPerSecond) return info.workers ? ' · time: speed not measured yet' : ' · time: no engine running yet';
    const cost = (positions) => plannedVisits(positions, p.visits, p.adaptive);
    if (!moves) return ` · ${eta(cost(250), info.visitsPerSecond)} for a 250-move game`;
    return ` · ${eta(cost(moves + (files.length || 1)), info.visitsPerSecond)} for ${files.length > 1 ? 'these games' : 'this game'}`;
  };

  const chosen = PRESETS.find((p) => p.name === preset);
  const visits = preset === 'exact' ? Number(exact) : chosen.visits;
  const adaptive = !!(chosen && chosen.adaptive);

  useEffect(() => {
    getInfo().then(setInfo);
  }, []);

  // The estimates are for the game on the form: its moves, counted from its text.
  useEffect(() => {
    let gone = false;
    const list = file ? [file] : files.filter((f) => !isZip(f));
    if (!list.length) {
      setMoves(text ? countMoves(text) : 0);
      return;
    }
    Promise.all(list.map((f) => f.text().then(countMoves).catch(() => 0))).then((ns) => !gone && setMoves(ns.reduce((a, b) => a + b, 0)));
    return () => { gone = true; };
  }, [file, files, text]);

  function take(list) {
    const all = [...(list || [])];
    if (!all.length) return;
    if (all.length === 1 && !isZip(all[0])) {
      setFile(all[0]);
      setFiles([]);
    } else {
      setFile(null);
      setFiles(all);
    }
    setText('');
    setError('');
  }

  function onDrop(e) {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files && e.dataTransfer.files.length ? e.dataTransfer.files : null;
    if (f) take(f);
    else {
      const t = e.dataTransfer.getData('text/plain');
      if (t) {
        setFile(null);
        setText(t);
      }
    }
  }

  async function onSubmit(e) {
    e.preventDefault();
    setError('');
    if (!file && !files.length && !text.trim()) {
      setError('Choose an SGF file, drop one here, or paste the SGF text.');
      return;
    }
    if (!Number.isInteger(visits) || visits < 1) {
      setError('Visits must be a whole number of at least 1.');
      return;
    }
    setBusy(true);
    if (files.length) {
      try {
        onBatch(await submitBatch({ files, maxVisits: visits, adaptive, includeOwnership: ownership }));
      } catch (err) {
        setError(err.message);
        setBusy(false);
      }
      return;
    }
    try {
      const res = await submit({
        sgf: file || text,
        name: file ? file.name : 'pasted.sgf',
        maxVisits: visits,
        adaptive,
        includeOwnership: ownership,
      });
      onCreated(res);
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  }

  return (
    <main class="upload">
      <form class="card" onSubmit={onSubmit}>
        <h1>Review a game with KataGo</h1>
        <div
          class={`drop${dragging ? ' dragging' : ''}${file ? ' chosen' : ''}`}
          id="drop"
          onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          onClick={() => picker.current.click()}
          role="button"
          tabIndex={0}
          onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), picker.current.click())}
        >
          {file ? (
            <span><strong id="file-name">{file.name}</strong> · {Math.max(1, Math.round(file.size / 1024))} KB · click to choose another</span>
          ) : files.length ? (
            <span><strong id="file-name">{files.length === 1 ? files[0].name : `${files.length} files`}</strong> · each game becomes its own review · click to choose others</span>
          ) : (
            <span><strong>Drop game records here</strong> (SGF, GIB, NGF, or a zip of them) or click to choose</span>
          )}
          <input
            ref={picker}
            id="file"
            type="file"
            accept=".sgf,.gib,.ngf,.zip,application/x-go-sgf,application/zip,text/plain"
            multiple
            hidden
            onChange={(e) => take(e.currentTarget.files)}
          />
        </div>
        <label class="paste">
          <span>…or paste the SGF</span>
          <textarea
            id="sgf-text"
            rows={4}
            placeholder="(;GM[1]FF[4]SZ[19]KM[6.5];B[pd];W[dp]…)"
            value={text}
            onInput={(e) => { setText(e.currentTarget.value); if (e.currentTarget.value) setFile(null); }}
          />
        </label>
        <fieldset class="visits">
          <legend>Depth (visits per position)</legend>
          {PRESETS.map((p) => (
            <label class={`preset${preset === p.name ? ' on' : ''}`} key={p.name}>
              <input type="radio" name="preset" value={p.name} checked={preset === p.name} onChange={() => setPreset(p.name)} />
              <strong>{p.label}</strong>{' '}
              {p.adaptive ? (
                <span>a quick look at every move ({quickVisits(p.visits)}), a deep search ({p.visits}) of the moves in doubt</span>
              ) : (
                <span>{p.visits} · {p.hint}</span>
              )}
              <span class="eta" id={`eta-${p.name}`}>{estimate(p)}</span>
            </label>
          ))}
          <label class={`preset${preset === 'exact' ? ' on' : ''}`}>
            <input type="radio" name="preset" value="exact" checked={preset === 'exact'} onChange={() => setPreset('exact')} />
            <strong>Exact</strong>
            <input
              id="visits"
              type="number"
              min="1"
              step="1"
              inputMode="numeric"
              placeholder="e.g. 1000"
              value={exact}
              onFocus={() => setPreset('exact')}
              onInput={(e) => { setExact(e.currentTarget.value); setPreset('exact'); }}
            />
          </label>
        </fieldset>
        <label class="check">
          <input type="checkbox" checked={ownership} onChange={(e) => setOwnership(e.currentTarget.checked)} />
          Territory (ownership) map
        </label>
        {error && <p class="error" id="upload-error" role="alert">{error}</p>}
        <button id="submit" class="primary" type="submit" disabled={busy}>
          {busy ? 'Uploading…' : 'Analyze'}
        </button>
      </form>
    </main>
  );
}
