/**
 * Where candidates come from: the keys under the prefix, listed a page at a
 * time in key order and handed out once per pass. A pass that reached the
 * end starts again from the first key after a pause, so an empty prefix
 * costs one listing per `pollInterval`, not a busy loop.
 *
 * @module
 */
import type { ListedObject, S3Service } from '../service.js';

const PAGE = 250;

/** A cursor over the keys under one prefix. */
export class Listing {
  readonly #service: S3Service;
  readonly #prefix: string;
  #buffer: ListedObject[] = [];
  #retry: ListedObject[] = [];
  #after: string | undefined;
  #ended = false;

  constructor(service: S3Service, prefix: string) {
    this.#service = service;
    this.#prefix = prefix;
  }

  /** True when this pass handed out every key (call {@link restart} after a pause). */
  get ended(): boolean {
    return this.#ended && this.#buffer.length === 0 && this.#retry.length === 0;
  }

  /** Up to `n` keys not yet handed out in this pass, skipping those `skip` says; lists a page when needed. */
  async next(n: number, skip: (key: string) => boolean, signal?: AbortSignal): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    const take = (from: ListedObject[]) => {
      while (out.length < n && from.length > 0) {
        const candidate = from.shift() as ListedObject;
        if (!skip(candidate.key)) out.push(candidate);
      }
    };
    take(this.#retry);
    take(this.#buffer);
    while (out.length < n && !this.#ended) {
      const page = await this.#service.list(this.#prefix, { startAfter: this.#after, maxKeys: PAGE, signal });
      this.#buffer = page.objects;
      this.#after = page.objects[page.objects.length - 1]?.key ?? this.#after;
      if (!page.truncated || page.objects.length === 0) this.#ended = true;
      take(this.#buffer);
    }
    return out;
  }

  /** Hands `object` out again at the next call (it was given back). */
  retry(object: ListedObject): void {
    this.#retry.push(object);
  }

  /** Starts a new pass from the first key. */
  restart(): void {
    this.#buffer = [];
    this.#after = undefined;
    this.#ended = false;
  }
}
