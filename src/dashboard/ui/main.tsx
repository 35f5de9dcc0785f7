/**
 * The dashboard's front end, bundled by esbuild into dist/src/dashboard/assets/app.js: a shell with
 * the navigation, and the page of the current path (each file under pages/ exports one, see page.ts). Links inside the dashboard
 * change the page without a reload; every page has its own URL that can be shared.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { getSession } from './api.js';
import { useLive } from './live.js';
import { PAGES } from 'shoal-dashboard:pages';

function App() {
  const [url, setPath] = useState(location.pathname + location.search);
  const path = url.split('?')[0]!;
  const [readOnly, setReadOnly] = useState(false);
  const { cluster } = useLive();
  useEffect(() => {
    const onPop = (): void => setPath(location.pathname + location.search);
    const onClick = (e: MouseEvent): void => {
      const a = (e.target as Element | null)?.closest('a');
      if (!a || a.origin !== location.origin || e.ctrlKey || e.metaKey || e.button !== 0) return;
      e.preventDefault();
      history.pushState(null, '', a.pathname + a.search);
      setPath(a.pathname + a.search);
    };
    addEventListener('popstate', onPop);
    document.addEventListener('click', onClick);
    getSession().then((s) => setReadOnly(s.readOnly), () => undefined);
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
    };
  }, []);
  let page = <p class="error">No page {path}.</p>;
  for (const p of PAGES) {
    const m = p.path.exec(path);
    if (m) {
      page = p.render(m.slice(1).map(decodeURIComponent));
      break;
    }
  }
  return (
    <>
      <header>
        <b class="brand">shoal</b>
        <nav>{PAGES.filter((p) => p.nav).map((p) => <a key={p.href} href={p.href} class={p.path.test(path) ? 'active' : ''}>{p.nav}</a>)}</nav>
        <span class="muted">{cluster ? `${cluster.address} · shoal ${cluster.version}` : ''}</span>
        {readOnly && <span class="badge" id="read-only">history (read-only)</span>}
        <form method="post" action="/logout"><button type="submit" class="link">Log out</button></form>
      </header>
      <main key={url}>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
