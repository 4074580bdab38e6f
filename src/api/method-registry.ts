/**
 * The MethodTable the API fills: `Namespace.method` → parameter schema → handler.
 */
import type { Method, MethodTable } from '../rpc/method-table.js';

export class MethodRegistry implements MethodTable {
  private readonly methods = new Map<string, Method>();

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
