import { describe, expect, it } from 'vitest';

import { timeoutsToRaw } from '../src/timeouts.js';

describe('timeoutsToRaw', () => {
  it('takes what getTimeouts reports, and leaves missing fields as 0 (unchanged)', () => {
    expect(timeoutsToRaw({ tcp: 900, tcpFin: 120, udp: 300 })).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(timeoutsToRaw({ udp: 7 })).toEqual({ tcp: 0, tcpFin: 0, udp: 7 });
  });

  it.each([
    [{ bogus: 5 }, /timeouts\.bogus is not a field of timeouts \(it has tcp, tcpFin, udp\)/],
    [{ tcp_fin: 30 }, /timeouts\.tcp_fin is not a field of timeouts/],
    [{ udp: 10, TCP: 5 }, /timeouts\.TCP is not a field of timeouts/],
  ])('refuses %j (it would send zeros: nothing changed, no error)', (timeouts, message) => {
    expect(() => timeoutsToRaw(timeouts as never)).toThrow(TypeError);
    expect(() => timeoutsToRaw(timeouts as never)).toThrow(message);
  });
});
