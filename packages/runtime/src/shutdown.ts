/**
 * Waits for work in progress at shutdown, `ms` at most: resolves when `work` settles (a rejection counts as
 * settled; the caller has already logged it) or when the time is up, whichever comes first.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
