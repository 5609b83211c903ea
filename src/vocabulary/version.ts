// Versions: the kernel's IPVS version code, and the ipvsadm release whose
// command line `ipvs` speaks.

/** 0x010201 as `1.2.1`. */
export function versionText(code: number): string {
  return `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`;
}

/** The ipvsadm release matched byte for byte. */
export const IPVSADM_VERSION = '1.31';
