/**
 * A verb as declared: its name, what it does in one line, its parameters in call order and the
 * shape of its answer. The declaration is the contract: parameters are bound by it, answers are
 * checked against it in the tests, and the method list and the API reference are printed from it.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Param } from '../../rpc/method-table.js';

export interface VerbDeclaration {
  readonly name: string;
  readonly summary: string;
  readonly params: readonly Param[];
  readonly result: TSchema;
}

export function verb(name: string, summary: string, params: readonly Param[], result: TSchema): VerbDeclaration {
  return { name, summary, params, result };
}
