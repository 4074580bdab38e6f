import { describe, expect, it } from 'vitest';
import { JobRegistry } from '../../src/virt/jobs.js';

describe('jobs registry (Host.getJobs)', () => {
  it('lists jobs by type and id, follows their changes, and keeps ended ones until their retention passed', () => {
    let now = 0;
    const jobs = new JobRegistry(1000, () => now);
    jobs.add({ id: 'a', job_type: 'v2v', status: 'running', description: 'import', progress: 10 });
    jobs.add({ id: 'b', job_type: 'storage', status: 'pending', description: 'copy' });
    expect(() => jobs.add({ id: 'a', job_type: 'v2v', status: 'running', description: 'again' })).toThrow('already registered');
    expect(Object.keys(jobs.list())).toEqual(['a', 'b']);
    expect(Object.keys(jobs.list('storage'))).toEqual(['b']);
    expect(Object.keys(jobs.list(undefined, ['a', 'zzz']))).toEqual(['a']);
    jobs.update('a', { status: 'done', progress: 100 });
    jobs.update('unknown', { status: 'failed' });
    expect(jobs.list()['a']).toEqual({ id: 'a', job_type: 'v2v', status: 'done', description: 'import', progress: 100 });
    now = 999;
    expect(Object.keys(jobs.list())).toEqual(['a', 'b']);
    now = 1001;
    expect(Object.keys(jobs.list())).toEqual(['b']);
    // A copy: changing an answer does not change the job.
    jobs.list()['b']!.status = 'aborted';
    expect(jobs.list()['b']!.status).toBe('pending');
  });
});
