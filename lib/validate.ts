/**
 * Option checks with one message shape: "Expected <what> for <option> but received <value> of type <type>".
 */
import { allowedCpus } from './system/environment.js';
import { OptionsError } from './errors.js';

function describe(value: unknown): string {
  let shown: string;
  if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'string') shown = JSON.stringify(value);
  else if (typeof value === 'function') shown = '[function]';
  else {
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = String(value);
    }
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${shown} of type ${type}`;
}

export function typeError(option: string, what: string, value: unknown): OptionsError {
  return new OptionsError(`Expected ${what} for ${option} but received ${describe(value)}`, { option, kind: 'type' });
}

export function rangeError(option: string, what: string, value: unknown): OptionsError {
  return new OptionsError(`Expected ${what} for ${option} but received ${describe(value)}`, { option, kind: 'range' });
}

export function checkObject(option: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw typeError(option, 'an object', value);
  return value as Record<string, unknown>;
}

/** Rejects keys that are not options, so a typo is not silently ignored. */
export function checkKnownKeys(option: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new OptionsError(`Unknown option ${option}.${key}; known options are ${known.join(', ')}`, {
        option: `${option}.${key}`,
        kind: 'type',
      });
    }
  }
}

export function checkInteger(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(option, 'an integer', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer between ${min} and ${max}`;
    throw rangeError(option, bounds, value);
  }
  return value;
}

export function checkNumber(option: string, value: unknown, min: number, max = Infinity): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(option, 'a number', value);
  if (value < min || value > max) {
    throw rangeError(option, max === Infinity ? `a number >= ${min}` : `a number between ${min} and ${max}`, value);
  }
  return value;
}

export function checkBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw typeError(option, 'a boolean', value);
  return value;
}

export function checkString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw typeError(option, 'a non-empty string', value);
  return value;
}

export function checkOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw typeError(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  if (!(allowed as readonly string[]).includes(value)) {
    throw rangeError(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** Checks a CPU index against the CPUs this process may run on. */
export function checkCpu(option: string, value: unknown): number | undefined {
  const cpu = checkInteger(option, value, 0, 4095);
  if (cpu === undefined) return undefined;
  const allowed = allowedCpus();
  if (!allowed.includes(cpu)) throw rangeError(option, `a CPU this process may run on (${allowed.join(', ')})`, cpu);
  return cpu;
}
