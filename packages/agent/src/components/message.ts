import { LazyText } from '../lazy-text.js';
import { interpolate, stringify } from '../variables.js';
import { list, type ComponentImpl } from './types.js';

/** Message (current): says its `content` template (the first one when the UI stored alternatives), references filled in. */
export const message: ComponentImpl = async (c, ctx) => {
  const template = list(c.params.content)[0] ?? '';
  return { outputs: {}, message: interpolate(template, ctx) };
};

/**
 * Answer (legacy): the interaction point. Reached straight from Begin it only passes the turn on to its
 * downstream (the conversation starts there); reached from another component it says that component's
 * output and ends the turn.
 */
export const answer: ComponentImpl = async (c, ctx, from) => {
  if (from === undefined || ctx.component(from)?.name === 'Begin') return { outputs: {} };
  const said = ctx.mainOutput(from);
  return { outputs: {}, message: [said instanceof LazyText ? said : stringify(said)], stop: true };
};
