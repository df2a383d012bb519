// Command-line parsing shared by the bench scripts.

/** Parses `--name value` pairs into `defaults` (numbers stay numbers). Unknown flags are refused. */
export function parseArgs(defaults, usage) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const key = flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!flag.startsWith('--') || !(key in defaults)) {
      console.error(`unknown flag ${flag}\n${usage}`);
      process.exit(2);
    }
    const value = argv[++i];
    if (value === undefined) {
      console.error(`missing value after ${flag}`);
      process.exit(2);
    }
    out[key] = typeof defaults[key] === 'number' ? Number(value) : value;
    if (typeof defaults[key] === 'number' && !Number.isFinite(out[key])) {
      console.error(`${flag} needs a number, got ${value}`);
      process.exit(2);
    }
  }
  return out;
}
