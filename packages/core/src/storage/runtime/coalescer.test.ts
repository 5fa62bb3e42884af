import { describe, expect, it } from 'vitest';
import { type BatchTarget, Coalescer, type Outcome } from './coalescer.js';

/** A target that answers when told to, and keeps what it was asked. */
function target() {
  const calls: (string | string[])[] = [];
  const answers: (() => void)[] = [];
  const later = <V>(value: () => V): Promise<V> =>
    new Promise<V>((resolve, reject) => {
      answers.push(() => {
        try {
          resolve(value());
        } catch (error) {
          reject(error);
        }
      });
    });
  const t: BatchTarget<string, string> = {
    name: 'test',
    one(item) {
      calls.push(item);
      if (item === 'throws') throw new Error('sync throw');
      return later(() => {
        if (item.startsWith('bad')) throw new Error(`refused ${item}`);
        return `did ${item}`;
      });
    },
    many(items) {
      calls.push([...items]);
      return later(() =>
        items.map(
          (item): Outcome<string> =>
            item.startsWith('bad')
              ? { ok: false, error: new Error(`refused ${item}`) }
              : { ok: true, value: `did ${item}` },
        ),
      );
    },
  };
  const answerAll = async () => {
    while (answers.length > 0) {
      for (const answer of answers.splice(0)) answer();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { t, calls, answerAll };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  it('sends a lone item through its single call and settles it with its outcome', async () => {
    const { t, calls, answerAll } = target();
    const c = new Coalescer(t);
    const ok = expect(c.submit('a')).resolves.toBe('did a');
    await tick();
    await answerAll();
    await ok;
    const bad = expect(c.submit('bad-b')).rejects.toThrow('refused bad-b');
    await tick();
    await answerAll();
    await bad;
    await expect(c.submit('throws')).rejects.toThrow('sync throw');
    expect(calls).toEqual(['a', 'bad-b', 'throws']);
  });

  it('batches the items of one turn, and those made while two batches are in flight', async () => {
    const { t, calls, answerAll } = target();
    const c = new Coalescer(t);
    const first = [c.submit('a'), c.submit('bad-b')];
    await tick();
    const second = c.submit('c');
    await tick();
    // Two batches in flight: these wait, then go as one.
    const third = [c.submit('d'), c.submit('e'), c.submit('bad-f')];
    await tick();
    expect(calls).toEqual([['a', 'bad-b'], 'c']);
    const all = Promise.allSettled([...first, second, ...third]);
    await answerAll();
    const settled = await all;
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      'did a',
      'refused bad-b',
      'did c',
      'did d',
      'did e',
      'refused bad-f',
    ]);
    expect(calls).toEqual([['a', 'bad-b'], 'c', ['d', 'e', 'bad-f']]);
    // Every place in flight was freed: the next lone item goes at once.
    const next = c.submit('g');
    await tick();
    await answerAll();
    await expect(next).resolves.toBe('did g');
    expect(calls.at(-1)).toBe('g');
  });

  it('sends an item at once while items come one at a time, and batches again once they do not', async () => {
    const { t, calls, answerAll } = target();
    const c = new Coalescer(t);
    // Two batches of one: the items come one at a time.
    for (const item of ['a', 'b']) {
      const done = c.submit(item);
      expect(calls.at(-1)).not.toBe(item);
      await tick();
      await answerAll();
      await expect(done).resolves.toBe(`did ${item}`);
    }
    // Now an item made while nothing waits goes in the call that made it.
    const c1 = c.submit('c');
    expect(calls.at(-1)).toBe('c');
    await answerAll();
    await expect(c1).resolves.toBe('did c');
    await expect(c.submit('throws')).rejects.toThrow('sync throw');
    const bad = c.submit('bad-d');
    expect(calls.at(-1)).toBe('bad-d');
    await answerAll();
    await expect(bad).rejects.toThrow('refused bad-d');
    // Company in one turn: the first went at once and holds a place in flight; the others gather.
    const burst = [c.submit('e'), c.submit('f'), c.submit('g')];
    expect(calls.at(-1)).toBe('e');
    await tick();
    expect(calls.at(-1)).toEqual(['f', 'g']);
    await answerAll();
    expect(await Promise.all(burst)).toEqual(['did e', 'did f', 'did g']);
    // A batch of more than one ends it: the next lone item waits for the end of its turn again.
    const h = c.submit('h');
    expect(calls.at(-1)).toEqual(['f', 'g']);
    await tick();
    await answerAll();
    await expect(h).resolves.toBe('did h');
    expect(calls).toEqual(['a', 'b', 'c', 'throws', 'bad-d', 'e', ['f', 'g'], 'h']);
  });
});
