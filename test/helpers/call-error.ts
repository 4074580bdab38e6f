/** The CallError a call failed with (the test fails when it succeeded or failed otherwise). */
import { expect } from 'vitest';
import { CallError } from '../../src/client/jsonrpc-client.js';

export async function callError(call: Promise<unknown>): Promise<CallError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CallError);
  return err as CallError;
}
