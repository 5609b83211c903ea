// Limits that the kernel and ipvsadm put on values, used by every check.

/** Seconds: the longest persistence and connection timeout (31 days). */
export const MAX_TIMEOUT = 31 * 24 * 3600;
/** The default persistence timeout in seconds (the kernel's IP_VS_SVC_PERSISTENT_TIMEOUT). */
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;
/** Destination weights and connection thresholds: 0..65535 as ipvsadm takes them. */
export const MAX_WEIGHT = 65535;
