// TypeDoc: the API reference (`npm run docs`, into docs/api/, not committed),
// from the doc comments of what the package's two entries export.
/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPoints: ['src/index.ts', 'src/exporter/index.ts'],
  out: 'docs/api',
  name: 'ipvs',
  // The README is for people; this is the reference it links to.
  readme: 'none',
  excludePrivate: true,
  // Constructors and members marked @internal (use open(), not new Ipvs).
  excludeInternal: true,
  // No links to the sources: they need a git remote TypeDoc recognises, and a
  // clone (CI's) or a checkout without one made docs:check fail on the warning.
  disableSources: true,
  validation: {
    // Every export, and every member of an exported type, has a doc comment;
    // `npm run docs:check` (scripts/test) fails on one that has none.
    notDocumented: true,
    // A type the API refers to is documented too…
    notExported: true,
    invalidLink: true,
  },
  // …but for the vocabulary tables behind these names, whose types the
  // reference shows inline (SchedulerFlag is SCHEDULER_FLAGS' names).
  intentionallyNotExported: ['ForwardingEntry', 'ProtocolName', 'ServiceProtocol', 'SCHEDULER_FLAGS', 'SPEC'],
};
