/**
 * The MethodTable the API fills: `Namespace.method` → declared parameters → handler. Verbs we
 * serve are bound to their declaration in the contract by name (`serve`); `register` takes a
 * method with its own parameters (the tests' made-up methods).
 */
import type { CallContext, Method, MethodTable } from '../rpc/method-table.js';
import { contract, type VerbDeclaration } from './contract/index.js';

export type Handler = (args: Record<string, unknown>, ctx: CallContext) => unknown;

/** Handlers by verb name. */
export type Handlers = Readonly<Record<string, Handler>>;

export class MethodRegistry implements MethodTable {
  private readonly methods = new Map<string, Method>();

  constructor(private readonly declarations: ReadonlyMap<string, VerbDeclaration> = contract) {}

  /** Serves declared verbs; a name the contract does not declare is a programming error. */
  serve(handlers: Handlers): this {
    for (const [name, handler] of Object.entries(handlers)) {
      const declared = this.declarations.get(name);
      if (declared === undefined) throw new Error(`method ${name} is not declared in the API contract`);
      this.register({ name, params: declared.params, handler });
    }
    return this;
  }

  register(...methods: Method[]): this {
    for (const method of methods) {
      if (!/^[A-Za-z]\w*\.\w+$/.test(method.name)) throw new Error(`method name ${JSON.stringify(method.name)} is not Namespace.method`);
      if (this.methods.has(method.name)) throw new Error(`method ${method.name} registered twice`);
      this.methods.set(method.name, method);
    }
    return this;
  }

  get(name: string): Method | undefined {
    return this.methods.get(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }
}
