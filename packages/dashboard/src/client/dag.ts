/**
 * A DAG run as an SVG picture, from the layout the server computed: boxes
 * coloured by node status, edges with arrowheads, names as text.
 */
import type { DagView } from '../api-types.js';
import { s } from './dom.js';

let markers = 0;

/** The picture of `dag`; clicking a node calls `onSelect` with its history position. */
export function dagPicture(dag: DagView, onSelect: (position: number) => void): SVGSVGElement {
  const marker = `arrow-${++markers}`;
  const svg = s('svg', {
    class: 'dag',
    'data-dag': dag.name,
    viewBox: `0 0 ${Math.max(dag.width, 10)} ${Math.max(dag.height, 10)}`,
    width: Math.max(dag.width, 10),
    height: Math.max(dag.height, 10),
    role: 'img',
    'aria-label': `DAG ${dag.name}`,
  });
  svg.append(
    s(
      'defs',
      null,
      s(
        'marker',
        {
          id: marker,
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }),
      ),
    ),
  );
  for (const edge of dag.edges) {
    svg.append(
      s('polyline', {
        class: 'edge',
        points: edge.points.map((p) => `${p.x},${p.y}`).join(' '),
        'marker-end': `url(#${marker})`,
      }),
    );
  }
  for (const node of dag.nodes) {
    const maxChars = Math.floor((node.width - 30) / 7.2);
    const label =
      node.name.length > maxChars ? `${node.name.slice(0, Math.max(1, maxChars - 1))}…` : node.name;
    const g = s(
      'g',
      { class: `dag-node status-${node.status}`, 'data-node': node.name, 'data-status': node.status },
      s('title', null, `${node.name}: ${node.status}`),
      s('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 5 }),
      s('circle', { cx: node.x + 12, cy: node.y + node.height / 2, r: 4, class: 'dot' }),
      s('text', { x: node.x + 22, y: node.y + node.height / 2 + 4 }, label),
    );
    if (node.position !== undefined) {
      const position = node.position;
      g.addEventListener('click', () => onSelect(position));
    }
    svg.append(g);
  }
  return svg;
}
