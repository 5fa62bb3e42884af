import { describe, expect, it } from 'vitest';
import { renderAscii } from './ascii.js';
import { graph } from './builder.js';
import { Graph } from './graph.js';

const checkout = graph('checkout')
  .node('validateUser', () => true)
  .node('checkInventory', () => 3)
  .node('checkFraud', () => 0.1)
  .node('finalize', { deps: ['validateUser', 'checkInventory', 'checkFraud'] }, () => 'ok')
  .node('notify', { deps: ['finalize'] }, () => undefined)
  .build();

describe('renderAscii', () => {
  it('shows every node, layer by layer, with what it depends on', () => {
    const text = renderAscii(checkout);
    for (const node of checkout.nodes) expect(text).toContain(node.name);
    expect(text).toContain('graph checkout (5 nodes)');
    expect(text).toContain('finalize ◀ validateUser, checkInventory, checkFraud');
    const lines = text.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('┌─ layer'))).toHaveLength(3);
    expect(lines.filter((l) => l.trim() === '▼')).toHaveLength(2);
    // Boxes line up: every box line has the same width.
    const widths = new Set(lines.filter((l) => /^[┌│└]/.test(l)).map((l) => [...l].length));
    expect(widths.size).toBe(1);
    expect(lines.findIndex((l) => l.includes('validateUser'))).toBeLessThan(
      lines.findIndex((l) => l.includes('finalize')),
    );
  });

  it('marks each node with its status and adds a tally and a legend', () => {
    const text = renderAscii(checkout, {
      status: {
        validateUser: 'completed',
        checkInventory: 'completed',
        checkFraud: 'failed',
        finalize: 'skipped',
      },
    });
    expect(text).toContain('✔ validateUser');
    expect(text).toContain('✘ checkFraud');
    expect(text).toContain('⊘ finalize');
    expect(text).toContain('○ notify');
    expect(text).toContain('2 completed, 1 failed, 1 skipped, 1 pending');
    expect(text).toContain('✔ completed  ◐ running  ✘ failed  ⊘ skipped  ○ pending');
  });

  it('has a pure-ASCII variant', () => {
    const text = renderAscii(checkout, { charset: 'ascii', status: { validateUser: 'running' } });
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(text).toContain('> validateUser');
    expect(text).toContain('. finalize <- validateUser, checkInventory, checkFraud');
  });

  it('escapes control characters in names and handles an empty graph', () => {
    const text = renderAscii(Graph.fromNodes([{ name: 'evil\u001b[31m\nname', run: () => 0 }]));
    expect(text).toContain('evil\\u001b[31m\\u000aname');
    expect(text).not.toContain('\u001b');
    expect(renderAscii(Graph.fromNodes([], { name: 'empty' }))).toContain('(no nodes)');
  });
});
