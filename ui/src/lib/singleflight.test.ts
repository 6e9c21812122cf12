import { describe, expect, it } from 'vitest';
import { SingleFlight } from './singleflight';

describe('SingleFlight', () => {
  it('joins a second call for a key in flight, and runs again once it is done', async () => {
    const flight = new SingleFlight();
    let runs = 0;
    let finish!: () => void;
    const task = () => {
      runs += 1;
      return new Promise<number>((resolve) => (finish = () => resolve(runs)));
    };
    const first = flight.run('a', task);
    const second = flight.run('a', task);
    expect(runs).toBe(1);
    expect(flight.has('a')).toBe(true);
    finish();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(flight.has('a')).toBe(false);
    await Promise.all([flight.run('a', task), Promise.resolve().then(() => finish())]);
    expect(runs).toBe(2);
  });

  it('runs different keys apart, and forgets a key whose run failed', async () => {
    const flight = new SingleFlight();
    const failed = flight.run('a', () => Promise.reject(new Error('no')));
    const other = flight.run('b', () => Promise.resolve('b'));
    await expect(failed).rejects.toThrow('no');
    expect(await other).toBe('b');
    expect(flight.has('a')).toBe(false);
  });
});
