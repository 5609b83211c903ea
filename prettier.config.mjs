// Prettier formats the TypeScript and JavaScript of this repository
// (`npm run lint` checks it, `npm run format` applies it).
export default {
  // The code was written to 120 columns; narrower would rewrap most signatures.
  printWidth: 120,
  // One quote style, the one the code already used.
  singleQuote: true,
  // Trailing commas keep a one-line change a one-line diff.
  trailingComma: 'all',
};
