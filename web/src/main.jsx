// main.jsx starts the page: / is the upload form with the library of reviews under it,
// /review/{id} a review, /player/{name} a player's games. All are one page; moving between
// them changes the address without a reload, so the address is always the stable link to
// what is on screen.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '@sabaki/shudan/css/goban.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { Upload } from './Upload.jsx';
import { Review } from './Review.jsx';
import { Batch, saveBatch } from './Batch.jsx';
import { Library } from './Library.jsx';
import { Player } from './Player.jsx';

function route() {
  const m = location.pathname.match(/^\/review\/([A-Za-z0-9_-]+)\/?$/);
  if (m) return { page: 'review', id: m[1] };
  const b = location.pathname.match(/^\/batch\/([A-Za-z0-9_-]+)\/?$/);
  if (b) return { page: 'batch', id: b[1] };
  const p = location.pathname.match(/^\/player\/([^/]+)\/?$/);
  if (p) {
    let name = p[1];
    try {
      name = decodeURIComponent(name);
    } catch {
      // A malformed escape: the name as written.
    }
    return { page: 'player', name, names: new URLSearchParams(location.search).getAll('names') };
  }
  return { page: 'upload' };
}

export function navigate(path, state) {
  history.pushState(state || null, '', path);
  dispatchEvent(new PopStateEvent('popstate', { state }));
}

// go moves to an address of the page; replace keeps the history entry (a change of the
// page's own parameters, not a new page).
function go(path, replace) {
  if (!replace) {
    navigate(path);
    scrollTo(0, 0);
    return;
  }
  history.replaceState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate', { state: null }));
}

function App() {
  const [r, setR] = useState(route);
  useEffect(() => {
    const on = () => setR(route());
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return (
    <>
      <header class="top">
        <a class="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          <span class="logo" aria-hidden="true" />tesuji
        </a>
        <span class="tagline">KataGo game review</span>
      </header>
      {r.page === 'review' && <Review key={r.id} id={r.id} warnings={history.state?.warnings} />}
      {r.page === 'batch' && <Batch key={r.id} id={r.id} state={history.state} onOpen={(id) => navigate(`/review/${id}`)} onHome={() => navigate('/')} />}
      {r.page === 'player' && <Player key={r.name} name={r.name} names={r.names} go={go} />}
      {r.page === 'upload' && (
        <>
          <Upload
            onCreated={(res) => navigate(`/review/${res.id}`, { warnings: res.warnings || [] })}
            onBatch={(res) => { const b = saveBatch(res); navigate(`/batch/${b.key}`, { batch: b.batch }); }}
          />
          <Library go={go} />
        </>
      )}
    </>
  );
}

render(<App />, document.getElementById('app'));
