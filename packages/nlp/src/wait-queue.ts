/**
 * Waits in `queue` until whoever releases the resource shifts this waiter off and calls it with a value. If
 * `signal` aborts first, the waiter leaves the queue and the promise rejects with the abort reason. Used where
 * a limited resource is handed out in turn (OCR workers, the one workbook slot).
 */
export function waitInQueue<T>(queue: ((value: T) => void)[], signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const take = (value: T) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => {
      const i = queue.indexOf(take);
      if (i >= 0) queue.splice(i, 1);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    queue.push(take);
  });
}
