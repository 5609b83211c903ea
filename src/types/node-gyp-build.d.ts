// node-gyp-build ships no types; this is the part src/addon.ts uses.
declare module 'node-gyp-build' {
  interface NodeGypBuild {
    /** Loads the addon of the package at `dir` (build/Release, else a fitting prebuild). */
    (dir: string): unknown;
    /** The file it would load; throws `No native build was found for …` when none fits. */
    path(dir: string): string;
  }
  const load: NodeGypBuild;
  export default load;
}
