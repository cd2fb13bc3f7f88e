/**
 * Text that is produced piece by piece (an LLM stream) and read either as a stream (by the Message component
 * that shows it) or as a whole (by a Switch or another prompt). Pieces are kept, so a reader that comes after
 * the stream has been shown still gets the full text; nothing is requested until someone reads.
 */
export class LazyText {
  private readonly parts: string[] = [];
  private finished = false;
  private iterator: AsyncIterator<string> | undefined;

  constructor(private readonly source: () => AsyncIterable<string>) {}

  static of(text: string): LazyText {
    return new LazyText(async function* () {
      yield text;
    });
  }

  get done(): boolean {
    return this.finished;
  }

  /** what has been produced so far */
  get current(): string {
    return this.parts.join('');
  }

  async *stream(): AsyncGenerator<string> {
    let i = 0;
    for (;;) {
      while (i < this.parts.length) yield this.parts[i++]!;
      if (this.finished) return;
      this.iterator ??= this.source()[Symbol.asyncIterator]();
      const r = await this.iterator.next();
      if (r.done) this.finished = true;
      else if (r.value) this.parts.push(r.value);
    }
  }

  async text(): Promise<string> {
    for await (const _ of this.stream()) {
      // drain
    }
    return this.current;
  }
}
