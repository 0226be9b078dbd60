// The queue's pure parts: URLs and masking, job ids, worker refusals, failed
// reasons. Runs against Redis are in queue-redis.test.ts.
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@chainz/core';
import { errorFromFailedReason, failedReasonOf, jobIdOf, maskUrlText, parseQueueUrl, benchVersion, QueueError, RemoteUnitError, type QueueJobData } from './queue';
import { refusalOf } from './queue-worker';
import { experimentFingerprint } from './run';
import { registerExperiment } from './registry';
import { QUEUE_WIRE_FORMAT } from './queue-codec';
import type { Experiment } from './contract';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'queue-plugin.mjs');

describe('--queue URLs', () => {
  it('parses redis:// and rediss:// with user, password, port and database; the password is masked', () => {
    const a = parseQueueUrl('redis://bob:p%40ss:w@redis.example:6380/3');
    expect(a.options).toEqual({ host: 'redis.example', port: 6380, db: 3, username: 'bob', password: 'p@ss:w' });
    expect(a.masked).toBe('redis://bob:***@redis.example:6380/3');
    const b = parseQueueUrl('rediss://:secret@10.0.0.5');
    expect(b.options).toEqual({ host: '10.0.0.5', port: 6379, db: 0, password: 'secret', tls: {} });
    expect(b.masked).toBe('rediss://:***@10.0.0.5:6379/0');
    expect(parseQueueUrl('redis://[::1]:7000').options).toMatchObject({ host: '::1', port: 7000 });
    expect(parseQueueUrl('redis://[::1]:7000').masked).toBe('redis://[::1]:7000/0');
    expect(parseQueueUrl('redis://worker@h/1').masked).toBe('redis://worker@h:6379/1');
    // A password from the environment, not the command line; one in the URL wins.
    const e = parseQueueUrl('redis://worker@h/1', { CHAINZ_REDIS_PASSWORD: 'from-env' });
    expect(e.options.password).toBe('from-env');
    expect(e.masked).toBe('redis://worker:***@h:6379/1');
    expect(parseQueueUrl('redis://:inline@h', { CHAINZ_REDIS_PASSWORD: 'from-env' }).options.password).toBe('inline');
  });

  it('refuses other schemes, bad ports and databases, and query parameters, without printing the password', () => {
    const bad: [string, RegExp][] = [
      ['http://u:hunter2@h:1', /^option --queue: 'http:\/\/u:\*\*\*@h:1' is not a redis:\/\/ or rediss:\/\/ URL$/],
      ['localhost:6379', /is not a redis:\/\/ or rediss:\/\/ URL/],
      ['redis://h:0', /port must be 1–65535/],
      ['redis://h/abc', /the path must be a database number \(\/0, \/1 …\), got '\/abc'/],
      ['redis://h/1?password=x', /query parameters are not read/],
      ['not a url', /not a URL: 'not a url'/],
    ];
    for (const [url, msg] of bad) {
      let err: unknown;
      try {
        parseQueueUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(ConfigError);
      expect((err as Error).message, url).toMatch(msg);
      expect((err as Error).message, url).not.toMatch(/hunter2/);
    }
    expect(maskUrlText('x redis://a:b@c y rediss://:q@d')).toBe('x redis://a:***@c y rediss://:***@d');
  });
});

describe('queue jobs', () => {
  const identity = { fingerprint: 'f'.repeat(64), keyFields: ['repeat', 'fold'], protocol: {}, dataFingerprint: 'd', models: ['cr'], version: '1' };

  it('a unit of a run always gets the same job id; another unit or run another one', () => {
    const t = { experiment: 'pima', model: 'cr', cells: [{ repeat: 0, fold: 1 }], identity };
    const id = jobIdOf(t);
    expect(id).toMatch(/^pima\.ffffffffffffffff\.[0-9a-f]{20}$/);
    expect(jobIdOf({ ...t, cells: [{ repeat: 0, fold: 1 }] })).toBe(id);
    expect(jobIdOf({ ...t, cells: [{ repeat: 0, fold: 2 }] })).not.toBe(id);
    expect(jobIdOf({ ...t, model: 'logreg' })).not.toBe(id);
    expect(jobIdOf({ ...t, identity: { ...identity, fingerprint: 'e'.repeat(64) } })).not.toBe(id);
  });

  it("a worker's error comes back to the coordinator with its class name, code, message and hint", () => {
    const e = new ConfigError('worker h:1 refused the unit: the run was planned by @chainz/bench 9.9.9', { option: '--queue' }, 'run the same version');
    const back = errorFromFailedReason(failedReasonOf(e));
    expect(back).toBeInstanceOf(RemoteUnitError);
    expect(back.name).toBe('ConfigError');
    expect((back as RemoteUnitError).code).toBe('E_CONFIG');
    expect(back.message).toBe('option --queue: worker h:1 refused the unit: the run was planned by @chainz/bench 9.9.9');
    expect((back as RemoteUnitError).hint).toBe('run the same version');
    const plain = errorFromFailedReason(failedReasonOf(new TypeError('x is not a function')));
    expect(plain.name).toBe('TypeError');
    expect(plain.message).toBe('x is not a function');
    const stalled = errorFromFailedReason('job stalled more than allowable limit');
    expect(stalled).toBeInstanceOf(QueueError);
    expect(stalled.message).toMatch(/the unit's worker stopped responding too many times/);
  });

  it('a worker refuses units of another version, another backend than its --backend, another fingerprint, an unknown experiment or model, another wire format', async () => {
    const { queueSynth } = (await import(pathToFileURL(fixture).href)) as { queueSynth: Experiment };
    registerExperiment(queueSynth);
    const mo = { unitMs: 0, mode: 'sleep' };
    const models = queueSynth.models(mo).map((m) => [m.name, m.config] as [string, Record<string, unknown>]);
    const parts = { keyFields: ['unit'], protocol: { units: 2, rows: 4 }, dataFingerprint: 'queue-synth-v1' };
    const version = benchVersion();
    const data: QueueJobData = {
      format: QUEUE_WIRE_FORMAT,
      identity: { ...parts, fingerprint: experimentFingerprint({ ...parts, models }), models: ['a', 'b'], version },
      experiment: 'queue-synth',
      backend: 'cpu',
      modelOptions: mo,
      model: 'a',
      cells: [{ unit: 0 }],
      seeds: [1],
      payloads: [],
    };
    expect(refusalOf(data, version)).toBeUndefined();
    expect(refusalOf(data, version, 'cpu')).toBeUndefined();
    expect(refusalOf(data, version, 'wasm')).toBe('the run computes on the cpu backend; this worker was started with --backend wasm');
    expect(refusalOf(data, '0.0.0-other')).toBe(`the run was planned by @chainz/bench ${version}; this worker runs 0.0.0-other`);
    expect(refusalOf({ ...data, format: 2 }, version)).toBe(`the job is in wire format 2; this worker reads format ${QUEUE_WIRE_FORMAT}`);
    expect(refusalOf({ ...data, experiment: 'nope' }, version)).toMatch(/^this worker has no experiment 'nope' \(load its plugin/);
    expect(refusalOf({ ...data, identity: { ...data.identity, models: ['a', 'zz'] } }, version)).toBe("this worker's experiment 'queue-synth' has no model 'zz'");
    // Another configuration of the models (another version of the code): the fingerprint differs.
    const other = experimentFingerprint({ ...parts, models: models.map(([n, c]) => [n, { ...c, variant: 'b' }]) });
    expect(refusalOf({ ...data, identity: { ...data.identity, fingerprint: other } }, version)).toMatch(/^fingerprint mismatch: this worker's models of 'queue-synth' give [0-9a-f]{12}…, the run's is [0-9a-f]{12}…/);
  });
});
