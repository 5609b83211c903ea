// A change in words, the same whether `ipvs apply` plans it or `ipvs watch`
// sees it: the settings of an added service or destination, and each changed
// setting as `before -> after`.
import type { DestinationSpec } from '../destination.js';
import type { ServiceSpec } from '../service.js';
import type { DestinationField, ServiceField } from '../table.js';

/** A service setting as the lines show it (a spec leaves defaults out). */
export function serviceValue(field: ServiceField, spec: ServiceSpec): string {
  switch (field) {
    case 'scheduler':
      return spec.scheduler ?? 'wlc';
    case 'persistence': {
      const p = spec.persistence;
      if (!p) return 'none';
      return `${p.timeout ?? 360}s${p.netmask === undefined ? '' : `/${p.netmask}`}`;
    }
    case 'persistenceEngine':
      return spec.persistenceEngine ?? 'none';
    case 'onePacket':
      return spec.onePacket ? 'yes' : 'no';
    case 'schedulerFlags':
      return spec.schedulerFlags?.length ? spec.schedulerFlags.join(',') : 'none';
  }
}

export function destinationValue(field: DestinationField, spec: DestinationSpec): string {
  switch (field) {
    case 'forwarding':
      return spec.forwarding ?? 'route';
    case 'weight':
      return String(spec.weight ?? 1);
    case 'upperThreshold':
      return String(spec.upperThreshold ?? 0);
    case 'lowerThreshold':
      return String(spec.lowerThreshold ?? 0);
    case 'tunnel': {
      const t = spec.tunnel;
      if (!t) return 'none';
      const checksum = t.checksum === undefined || t.checksum === 'nocsum' ? '' : `,${t.checksum}`;
      return `${t.type}${t.port ? `:${t.port}` : ''}${checksum}`;
    }
  }
}

/** An added service in a few words: `scheduler rr persistence 300s/255.255.255.0 engine sip one-packet`. */
export function addedServiceText(spec: ServiceSpec): string {
  const parts = [`scheduler ${serviceValue('scheduler', spec)}`];
  if (spec.persistence) parts.push(`persistence ${serviceValue('persistence', spec)}`);
  if (spec.persistenceEngine !== undefined) parts.push(`engine ${spec.persistenceEngine}`);
  if (spec.onePacket) parts.push('one-packet');
  if (spec.schedulerFlags?.length) parts.push(`flags ${serviceValue('schedulerFlags', spec)}`);
  return parts.join(' ');
}

/** An added destination: `masq weight 1 thresholds 2-10 tunnel gue:6080,csum`. */
export function addedDestinationText(spec: DestinationSpec): string {
  // Appended, not joined from an array: a plan prints one per destination added.
  let text = `${destinationValue('forwarding', spec)} weight ${destinationValue('weight', spec)}`;
  if (spec.upperThreshold || spec.lowerThreshold) {
    text += ` thresholds ${destinationValue('lowerThreshold', spec)}-${destinationValue('upperThreshold', spec)}`;
  }
  if (spec.tunnel) text += ` tunnel ${destinationValue('tunnel', spec)}`;
  return text;
}

export function fieldChanges<F extends string, T>(
  fields: F[],
  before: T,
  after: T,
  value: (f: F, spec: T) => string,
): string {
  return fields.map((f) => `${f} ${value(f, before)} -> ${value(f, after)}`).join(', ');
}
