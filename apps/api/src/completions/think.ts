/** One piece of model output: reasoning (inside `<think>…</think>`) or answer text. */
export interface Segment {
  reasoning: boolean;
  text: string;
}

const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Splits a streamed answer into reasoning and answer text. Reasoning models send their thinking inside
 * `<think>…</think>` (Ollama, vLLM without a reasoning parser; the provider wraps `reasoning_content` the same
 * way); a tag split across pieces is held back until it is complete. Tags are not part of either text.
 */
export class ThinkSplitter {
  private inThink = false;
  private pending = '';

  push(piece: string): Segment[] {
    this.pending += piece;
    const out: Segment[] = [];
    for (;;) {
      const tag = this.inThink ? CLOSE : OPEN;
      const at = this.pending.indexOf(tag);
      if (at >= 0) {
        if (at > 0) out.push({ reasoning: this.inThink, text: this.pending.slice(0, at) });
        this.pending = this.pending.slice(at + tag.length);
        this.inThink = !this.inThink;
        continue;
      }
      // keep a tail that may be the start of the tag
      let keep = 0;
      for (let k = Math.min(tag.length - 1, this.pending.length); k > 0; k--) {
        if (tag.startsWith(this.pending.slice(-k))) {
          keep = k;
          break;
        }
      }
      const text = this.pending.slice(0, this.pending.length - keep);
      if (text) out.push({ reasoning: this.inThink, text });
      this.pending = this.pending.slice(this.pending.length - keep);
      return out;
    }
  }

  finish(): Segment[] {
    const text = this.pending;
    this.pending = '';
    return text ? [{ reasoning: this.inThink, text }] : [];
  }
}

/** Removes reasoning blocks (history sent back to a model). */
export function stripThink(text: string): string {
  return text.replace(/<think>[\s\S]*?(<\/think>|$)/g, '').trimStart();
}
