// Upload.jsx is the form that starts a review: an SGF by drag and drop, file picker or
// pasted text, and how deep KataGo should read.
import { useRef, useState } from 'preact/hooks';
import { submit } from './api.js';

// PRESETS are visits per position. Quick is enough to spot blunders; deep approaches what
// KaTrain and Lizzie users run for a careful review.
export const PRESETS = [
  { name: 'quick', label: 'Quick', visits: 100, hint: 'blunders, in seconds' },
  { name: 'normal', label: 'Normal', visits: 500, hint: 'a solid review' },
  { name: 'deep', label: 'Deep', visits: 2000, hint: 'careful, takes longer' },
];

export function Upload({ onCreated }) {
  const [file, setFile] = useState(null);
  const [text, setText] = useState('');
  const [preset, setPreset] = useState('normal');
  const [exact, setExact] = useState('');
  const [ownership, setOwnership] = useState(true);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const picker = useRef(null);

  const visits = preset === 'exact' ? Number(exact) : PRESETS.find((p) => p.name === preset).visits;

  function take(f) {
    if (!f) return;
    setFile(f);
    setText('');
    setError('');
  }

  function onDrop(e) {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files && e.dataTransfer.files[0];
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
    if (!file && !text.trim()) {
      setError('Choose an SGF file, drop one here, or paste the SGF text.');
      return;
    }
    if (!Number.isInteger(visits) || visits < 1) {
      setError('Visits must be a whole number of at least 1.');
      return;
    }
    setBusy(true);
    try {
      const res = await submit({
        sgf: file || text,
        name: file ? file.name : 'pasted.sgf',
        maxVisits: visits,
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
          ) : (
            <span><strong>Drop an SGF file here</strong> or click to choose one</span>
          )}
          <input
            ref={picker}
            id="file"
            type="file"
            accept=".sgf,.gib,.ngf,application/x-go-sgf,text/plain"
            hidden
            onChange={(e) => take(e.currentTarget.files[0])}
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
              <strong>{p.label}</strong> <span>{p.visits} · {p.hint}</span>
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
