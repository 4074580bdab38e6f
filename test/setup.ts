// Tests log nothing unless asked: HOSTVISOR_TEST_LOG=debug npx vitest run ...
import { setLogLevel } from '../src/log.js';
import type { LogLevel } from '../src/config/schema.js';

setLogLevel((process.env['HOSTVISOR_TEST_LOG'] as LogLevel | undefined) ?? 'silent');
