/**
 * Node 20 lacks `Promise.withResolvers` (ES2024, Node 22+), which @platformatic/kafka calls on every produce; Bun
 * and Deno have it. Installing the standard's behaviour when it is missing lets the Node bundle run on Node 20.
 * Imported for its effect, first thing in main.ts.
 */
interface PromiseWithResolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const promiseConstructor = Promise as unknown as { withResolvers?: <T>() => PromiseWithResolvers<T> }
if (typeof promiseConstructor.withResolvers !== 'function') {
  promiseConstructor.withResolvers = <T>(): PromiseWithResolvers<T> => {
    let resolve!: PromiseWithResolvers<T>['resolve']
    let reject!: PromiseWithResolvers<T>['reject']
    const promise = new Promise<T>((resolvePromise, rejectPromise) => {
      resolve = resolvePromise
      reject = rejectPromise
    })
    return { promise, resolve, reject }
  }
}

export {}
