/**
 * model-audit/report: the report and the files behind it: JSON conversion, the schemas, the audit's
 * steps and defaults, configuration checks, and reading a soak's JSON-lines file back.
 */
export { toJsonSafe, reportSchemaVersion, stepNames } from './json.js';
export { readSchema, schemaDir } from './schema.js';
export { plannedSteps, packageVersion } from '../audit/audit.js';
export { validateConfig, defaultSteps, stepDefaults } from '../audit/config.js';
export { readSoakFile } from '../measure/soak/file.js';
export { soakVerdicts } from '../measure/soak/verdicts.js';
