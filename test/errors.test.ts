import { describe, expect, it } from 'vitest';

import { fromNative, IpvsError, ipvsadmMessage } from '../src/errors.js';

describe("ipvsadm's messages", () => {
  it.each([
    ['addService', 17, 'Service already exists'],
    ['addService', 2, 'Scheduler or persistence engine not found'],
    ['editService', 3, 'No such service'],
    ['addDestination', 3, 'Service not defined'],
    ['addDestination', 17, 'Destination already exists'],
    ['editDestination', 2, 'No such destination'],
    ['deleteDestination', 2, 'No such destination'],
    ['addService', 1, 'Permission denied (you must be root)'],
    ['clear', 22, 'Invalid operation.  Possibly wrong module version, address not unicast, ...'],
    ['addService', 97, 'Operation not supported with specified address family'],
    ['addService', 95, 'Operation not supported with IPv6'],
  ])('%s with errno %i says %j', (op, errno, message) => {
    expect(ipvsadmMessage(op, errno, 'fallback')).toBe(message);
  });

  it('falls back to the C library text', () => {
    expect(ipvsadmMessage('addDestination', 2, 'No such file or directory')).toBe('No such file or directory');
    expect(ipvsadmMessage('editDestination', 17, 'File exists')).toBe('File exists');
  });
});

describe('fromNative', () => {
  it('keeps errno, code, op and the kernel text', () => {
    const native = Object.assign(new Error('No such process'), {
      errno: 3,
      op: 'deleteService',
      kernelMessage: 'svc gone',
      fromKernel: true,
    });
    const e = fromNative(native) as IpvsError;
    expect(e).toBeInstanceOf(IpvsError);
    expect(e).toMatchObject({
      name: 'IpvsError',
      errno: 3,
      code: 'ESRCH',
      op: 'deleteService',
      message: 'No such service',
      detail: 'No such process',
      kernelMessage: 'svc gone',
    });
  });

  it('keeps the message of a failure that is not the kernel verdict', () => {
    const native = Object.assign(new Error('IPVS is not available in this kernel: ...'), {
      errno: 92,
      op: 'open',
      fromKernel: false,
    });
    expect(fromNative(native)).toMatchObject({
      code: 'ENOPROTOOPT',
      fromKernel: false,
      message: 'IPVS is not available in this kernel: ...',
    });
  });

  it('passes other errors through', () => {
    const t = new TypeError('x');
    expect(fromNative(t)).toBe(t);
  });
});
