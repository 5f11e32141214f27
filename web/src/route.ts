// The page's place: `#/<view>[/<arg>][?context=<address>]`. The hash keeps it in the one page the
// server serves at `/`, so a link can be shared and the back button works.

export type View = 'map' | 'household' | 'community' | 'market' | 'chain' | 'city';
export const VIEWS: readonly View[] = ['map', 'household', 'community', 'market', 'chain', 'city'];

export interface Route {
  readonly view: View;
  readonly arg: string | null;
  readonly context: string | null;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [first = '', arg = null] = path.split('/', 2);
  const view = (VIEWS as readonly string[]).includes(first) ? (first as View) : 'map';
  const context = new URLSearchParams(search).get('context');
  return {
    view,
    arg: arg === null || arg === '' ? null : decodeURIComponent(arg),
    context: context === '' ? null : context,
  };
}

export function hrefOf(r: Partial<Route> & { readonly view: View }, current: Route): string {
  const context = r.context === undefined ? current.context : r.context;
  const arg = r.arg === undefined || r.arg === null ? '' : `/${encodeURIComponent(r.arg)}`;
  return `#/${r.view}${arg}${context === null ? '' : `?context=${encodeURIComponent(context)}`}`;
}
