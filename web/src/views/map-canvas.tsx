// The map's canvas: redraws the still picture when the households, flows or size change, and
// animates the dots with requestAnimationFrame while the page is visible (the browser pauses it
// on a hidden tab). A click on a household opens its page.

import { useEffect, useRef } from 'preact/hooks';
import { drawFrame, drawStill, type StillPicture, viewportOf } from '../map-draw.js';
import type { Household, MapFlow } from '../map-model.js';
import { hrefOf, type Route } from '../route.js';

const HEIGHT_RATIO = 0.72;
/** Narrow screens (phones) get a square map. */
const NARROW_PX = 600;
const HEIGHT_MAX_PX = 720;

export function MapCanvas(props: {
  households: readonly Household[];
  flows: readonly MapFlow[];
  ready: boolean;
  route: Route;
}) {
  const { households, flows, ready, route } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const still = useRef<StillPicture | null>(null);
  const marked = useRef(false);

  useEffect(() => {
    const box = wrap.current;
    const el = canvas.current;
    if (box === null || el === null) return;
    const g = el.getContext('2d');
    if (g === null) return;
    let frame = 0;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const paint = (): void => {
      const widthPx = box.clientWidth;
      // Not laid out (yet): nothing to draw into; the resize observer paints once it is.
      if (widthPx <= 0) {
        still.current = null;
        return;
      }
      const ratio = widthPx < NARROW_PX ? 1 : HEIGHT_RATIO;
      const heightPx = Math.min(HEIGHT_MAX_PX, Math.round(widthPx * ratio));
      el.width = Math.round(widthPx * dpr);
      el.height = Math.round(heightPx * dpr);
      el.style.height = `${heightPx}px`;
      still.current = drawStill(viewportOf(widthPx, heightPx), dpr, households, flows);
      drawFrame(g, dpr, still.current, performance.now());
    };
    const loop = (now: number): void => {
      if (still.current !== null) drawFrame(g, dpr, still.current, now);
      frame = requestAnimationFrame(loop);
    };
    paint();
    if (ready && !marked.current && households.length > 0) {
      marked.current = true;
      performance.mark('hz:map-first-picture');
    }
    el.dataset['ready'] = String(ready);
    frame = requestAnimationFrame(loop);
    const observer = new ResizeObserver(() => paint());
    observer.observe(box);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    };
  }, [households, flows, ready]);

  const click = (ev: MouseEvent): void => {
    const rect = (ev.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const y = ev.clientY - rect.top;
    const hit = still.current?.points.find((p) => (p.x - x) ** 2 + (p.y - y) ** 2 <= p.r ** 2);
    if (hit !== undefined) location.hash = hrefOf({ view: 'household', arg: hit.address }, route);
  };

  const local = flows.filter((f) => f.cls !== 'external').length;
  return (
    <div class="map-wrap" ref={wrap}>
      <canvas
        ref={canvas}
        role="img"
        aria-label={`Map of ${households.length} households with ${local} local and ${flows.length - local} external flows in the selected period`}
        data-households={households.length}
        data-flows-local={local}
        data-flows-external={flows.length - local}
        onClick={click}
      />
    </div>
  );
}
