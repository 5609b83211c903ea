import type { RawInfo } from './native.js';

/** What `info()` reports about the kernel's IPVS. */
export interface Info {
  /** The IPVS version as text, such as `'1.2.1'`. */
  version: string;
  /** The version as the kernel encodes it (0x010201). */
  versionCode: number;
  /** Buckets in the connection hash table (the module's conn_tab_bits). */
  connectionTableSize: number;
}

export function infoFromRaw(raw: RawInfo): Info {
  const v = raw.version;
  return {
    version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`,
    versionCode: v,
    connectionTableSize: raw.connTabSize,
  };
}
