import type { RawInfo } from './native.js';
import { versionText } from './vocabulary/version.js';

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
    version: versionText(v),
    versionCode: v,
    connectionTableSize: raw.connTabSize,
  };
}
