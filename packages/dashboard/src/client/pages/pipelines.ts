/**
 * Pipelines: flows started by the durable bridge, grouped by task, each with
 * its transaction id (the flow id) and the task's source.
 */
import type { PipelineGroup } from '../../api-types.js';
import { get } from '../api.js';
import { badge, flowLink, h, relative, replace, section } from '../dom.js';
import { guarded, type Page } from './page.js';

/** The pipelines page. */
export function pipelinesPage(): Page {
  const box = h('div', { id: 'pipelines' });
  const el = h('div', { class: 'page pipelines' }, h('h1', null, 'Pipelines'), box);
  return {
    el,
    refresh: () =>
      guarded(el, async () => {
        const { pipelines } = await get<{ pipelines: PipelineGroup[] }>('api/pipelines');
        if (pipelines.length === 0) {
          replace(
            box,
            h(
              'p',
              { class: 'muted' },
              'No pipelines configured. The store does not record which task started a flow: give the dashboard ' +
                'its durable-bridge tasks (the pipelines option, or ergon dashboard --pipeline task=flow-type).',
            ),
          );
          return;
        }
        replace(box, ...pipelines.map(group));
      }),
  };
}

function group(p: PipelineGroup): HTMLElement {
  return section(
    `Task ${p.task}`,
    h(
      'p',
      null,
      'Flow type ',
      h('code', null, p.flowType),
      p.source ? [' · source ', h('code', null, p.source)] : null,
    ),
    p.flows.length === 0
      ? h('p', { class: 'muted' }, 'No transactions yet.')
      : h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            null,
            h('tr', null, ...['transaction id', 'status', 'created', 'error'].map((t) => h('th', null, t))),
          ),
          h(
            'tbody',
            null,
            ...p.flows.map((f) =>
              h(
                'tr',
                null,
                h('td', null, flowLink(f.id)),
                h('td', null, badge(f.status)),
                h('td', null, relative(f.createdAt)),
                h('td', { class: 'error-text' }, f.error ?? ''),
              ),
            ),
          ),
        ),
    p.nextCursor
      ? h('p', null, h('a', { href: `#/flows?type=${encodeURIComponent(p.flowType)}` }, 'all of them…'))
      : null,
  );
}
