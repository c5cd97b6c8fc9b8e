// main.jsx starts the page: / is the upload form, /review/{id} a review. Both are one
// page; moving from the form to a review changes the address without a reload, so the
// address is always the stable link to what is on screen.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '@sabaki/shudan/css/goban.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { Upload } from './Upload.jsx';
import { Review } from './Review.jsx';
import { Batch, saveBatch } from './Batch.jsx';

function route() {
  const m = location.pathname.match(/^\/review\/([A-Za-z0-9_-]+)\/?$/);
  if (m) return { page: 'review', id: m[1] };
  const b = location.pathname.match(/^\/batch\/([A-Za-z0-9_-]+)\/?$/);
  return b ? { page: 'batch', id: b[1] } : { page: 'upload' };
}

export function navigate(path, state) {
  history.pushState(state || null, '', path);
  dispatchEvent(new PopStateEvent('popstate', { state }));
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
      {r.page === 'upload' && (
        <Upload
          onCreated={(res) => navigate(`/review/${res.id}`, { warnings: res.warnings || [] })}
          onBatch={(res) => { const b = saveBatch(res); navigate(`/batch/${b.key}`, { batch: b.batch }); }}
        />
      )}
    </>
  );
}

render(<App />, document.getElementById('app'));
