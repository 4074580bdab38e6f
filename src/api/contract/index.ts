/**
 * The API contract: every verb we serve, declared once. The method table binds handlers to these
 * declarations by name, so a verb without a declaration cannot be served.
 */
import type { VerbDeclaration } from './declaration.js';
import { hostVerbs } from './host-verbs.js';
import { migrationVerbs } from './migration-verbs.js';
import { vmVerbs } from './vm-verbs.js';

export type { VerbDeclaration } from './declaration.js';

export const contract: ReadonlyMap<string, VerbDeclaration> = new Map([...hostVerbs, ...vmVerbs, ...migrationVerbs].map((v) => [v.name, v]));
